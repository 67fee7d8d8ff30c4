"""A Ray cluster of processes on this machine: a head and worker nodes, each a
``ray start --block`` in a process group of its own, for the tests and benchmarks.

Ray advertises the machine's own network address instead of 127.0.0.1, so use it only in
a network namespace that has nothing but loopback (``in_loopback_namespace``; as root:
``unshare -n`` then ``ip link set lo up``). Token authentication is on. The cluster is
stopped by ending the process groups it started (never ``ray stop``, which would end
every Ray process on the machine).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def in_loopback_namespace() -> bool:
    """True when this process's network namespace has no interface but loopback, and it is up.

    /proc/net follows the namespace (/sys/class/net may show the host's unless remounted).
    """
    try:
        lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    except OSError:
        return False
    names = [line.split(":", 1)[0].strip() for line in lines]
    if names != ["lo"]:
        return False
    try:
        with socket.create_server(("127.0.0.1", 0)):
            return True   # loopback is up
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_env(token: str) -> dict[str, str]:
    """The environment every process of the cluster and its clients need."""
    return {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}


class LoopbackCluster:
    def __init__(self, root: Path | None = None, *, port: int | None = None, token: str | None = None) -> None:
        if not in_loopback_namespace():
            raise RuntimeError("a loopback Ray cluster needs a network namespace with only loopback "
                               "(as root: unshare -n, then ip link set lo up)")
        # short: Ray's unix socket paths must stay under 107 characters
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
        self.token = token or secrets.token_hex(16)
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, **ray_env(self.token)}   # for the cluster and its clients
        self.ray = str(Path(sys.executable).with_name("ray"))
        self.head: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self._logs: list = []

    def _spawn(self, args: list[str], name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "w")
        self._logs.append(log)
        # each node's temp dir (its worker cache among them) lies under the cluster's root, so
        # stop() removes everything the cluster wrote; /tmp keeps nothing of it
        tmp = self.root / f"tmp-{name}"
        tmp.mkdir(exist_ok=True)
        return subprocess.Popen([self.ray, "start", "--block", *args], env={**self.env, "TMPDIR": str(tmp), **(env or {})},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, workers: list[int] = (1,), timeout: float = 90.0) -> "LoopbackCluster":
        """A head without CPUs (nothing runs there) and a worker node per entry, with that many CPUs."""
        self.head = self._spawn(["--head", "--port", str(self.port), "--num-cpus", "0", "--include-dashboard",
                                 "false", "--temp-dir", str(self.root / "t"), "--disable-usage-stats"], "head")
        self._wait_port(timeout)
        for i, cpus in enumerate(workers):   # one at a time: raylets starting together can time out
            self.add_worker(cpus)
            self.wait_nodes(2 + i, timeout)
        return self

    def add_worker(self, cpus: int = 1, env: dict[str, str] | None = None) -> subprocess.Popen:
        """A worker node (``env``: variables of its own, for the node's processes only)."""
        proc = self._spawn(["--address", self.address, "--num-cpus", str(cpus)], f"worker{len(self.workers)}", env)
        self.workers.append(proc)
        return proc

    def _wait_port(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.head is not None and self.head.poll() is not None:
                raise RuntimeError(f"the Ray head exited: {self.log('head')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"the Ray head did not listen on {self.address}: {self.log('head')[-2000:]}")

    def alive_nodes(self) -> int:
        code = "import ray; ray.init(address=%r, logging_level='ERROR'); print(sum(n['Alive'] for n in ray.nodes()))"
        out = subprocess.run([sys.executable, "-c", code % self.address], env=self.env, capture_output=True,
                             text=True, timeout=120)
        try:
            return int(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return 0

    def wait_nodes(self, n: int, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.alive_nodes() >= n:
                return
            time.sleep(1.0)
        logs = "\n".join(f"--- {name}:\n{self.log(name)[-1500:]}" for name in
                         ["head", *(f"worker{i}" for i in range(len(self.workers)))])
        raise TimeoutError(f"fewer than {n} Ray nodes came up:\n{logs}")

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @staticmethod
    def kill_group(pgid: int) -> None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    @staticmethod
    def _parent(pid: int) -> int:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return 0
        return int(stat.rsplit(")", 1)[1].split()[1])

    def _descendants(self, root: int) -> list[int]:
        out = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                pid = p = int(entry)
                while p > 1:
                    p = self._parent(p)
                    if p == root:
                        out.append(pid)
                        break
        return out

    def kill_node_of(self, pid: int) -> subprocess.Popen:
        """kill -9 the whole worker node that runs ``pid``: its ``ray start``, raylet and every
        process under them (Ray puts its workers in process groups of their own)."""
        node = None
        p = pid
        while p > 1 and node is None:
            node = next((w for w in self.workers if w.pid == p), None)
            p = self._parent(p)
        if node is None:
            raise ValueError(f"process {pid} is not on a worker node of this cluster")
        for child in [*self._descendants(node.pid), node.pid]:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.kill_group(node.pid)
        node.wait(10)
        return node

    def stop(self) -> None:
        for proc in [*self.workers, *([self.head] if self.head else [])]:
            for child in self._descendants(proc.pid):
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.kill_group(proc.pid)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        for log in self._logs:
            log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "LoopbackCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

"""The server as a real process: killed with runs queued and running, then started again."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .helpers import REPO, free_port, tiny_graph, wait_for


class ServerProcess:
    def __init__(self, home: Path, data_root: Path, port: int, *extra: str) -> None:
        env = {**os.environ, "ABACUS_PROGRESS_COALESCE_S": "0"}
        self.log = open(home.parent / f"server-{time.time_ns()}.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--home", str(home), "--port", str(port),
             "--data-root", str(data_root), "--log-level", "warning", *extra],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

    def wait_ready(self) -> dict:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited: {self.output()}")
            try:
                return self.http.get("/api/health").json()
            except httpx.HTTPError:
                return None

        return wait_for(ready, 60, 0.2, "the server to answer")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)
        self.http.close()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited: it only waits for its parent to collect it
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_restart_with_running_and_queued_runs(tmp_path, data_root):
    home = tmp_path / "home"
    port = free_port()
    server = ServerProcess(home, data_root, port)
    try:
        health = server.wait_ready()
        maps = Path(f"/proc/{server.proc.pid}/maps").read_text()
        assert "libtorch" not in maps, "the server process must not load torch"
        worker_pid = health["worker"]["pid"]
        http = server.http
        pid = http.post("/api/projects", json={"name": "r", "graph": tiny_graph("cv", epochs=1000)}).json()["id"]
        running = http.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
        queued = http.post(f"/api/projects/{pid}/runs",
                           json={"targets": ["train"], "graph": tiny_graph("cv", epochs=1)}).json()
        wait_for(lambda: any(e["type"] == "node.metrics" for e in
                             http.get(f"/api/runs/{running['id']}/events").json()), 90, what="training")
        assert http.get(f"/api/runs/{queued['id']}").json()["status"] == "queued"
        server.stop(signal.SIGKILL)
        # the orphaned worker notices its server is gone and exits by itself
        wait_for(lambda: not pid_alive(worker_pid), 15, what="the orphaned worker to exit")
    finally:
        server.stop(signal.SIGKILL)

    server = ServerProcess(home, data_root, port)
    try:
        server.wait_ready()
        http = server.http
        run = http.get(f"/api/runs/{running['id']}").json()
        assert run["status"] == "interrupted"
        assert run["error"]["code"] == "interrupted"
        assert run["error"]["message"] == "the server stopped while this run was executing"
        last = http.get(f"/api/runs/{running['id']}/events").json()[-1]
        assert (last["type"], last["code"]) == ("run.failed", "interrupted")

        final = wait_for(lambda: (r := http.get(f"/api/runs/{queued['id']}").json())["status"]
                         not in ("queued", "running") and r, 90, what="the queued run to run")
        assert final["status"] == "finished", final
        events = http.get(f"/api/runs/{queued['id']}/events").json()
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    finally:
        server.stop(signal.SIGTERM)
    # uvicorn shuts down cleanly on SIGTERM, then re-raises the signal to report it
    assert server.proc.returncode in (0, -signal.SIGTERM), server.output()
    assert "Traceback" not in server.output()


def test_refuses_public_address_without_token(tmp_path, data_root):
    result = subprocess.run([sys.executable, "-m", "backend.cli", "serve", "--host", "0.0.0.0", "--home",
                             str(tmp_path), "--port", str(free_port())], cwd=REPO, capture_output=True, text=True,
                            timeout=60, env={k: v for k, v in os.environ.items() if k != "ABACUS_TOKEN"})
    assert result.returncode != 0
    assert "without an access token" in result.stderr


TOKEN = "s3cret-s3cret-s3cret"  # off loopback a token needs 16 characters or more


@pytest.mark.parametrize("host", ["0.0.0.0"])
def test_public_address_with_token(tmp_path, data_root, host):
    port = free_port()
    server = ServerProcess(tmp_path / "home", data_root, port, "--host", host, "--token", TOKEN)

    def ready():
        if server.proc.poll() is not None:
            raise AssertionError(server.output())
        try:
            return server.http.get("/api/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, 60, 0.2, "the server")
        assert "Abacus studio: http://0.0.0.0:" in server.output()
        r = server.http.get("/api/health")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert server.http.get("/api/health", params={"token": "wrong"}).status_code == 401
        assert server.http.get("/api/health", params={"token": TOKEN}).status_code == 200
    finally:
        server.stop()

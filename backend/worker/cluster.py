"""The Ray worker: runs execute in actors on a Ray cluster's worker nodes.

Three processes take part:

- the caller (the studio server or the CLI) holds a ``RayWorker``, a ``ProcessWorker``
  whose child is the Ray driver: the caller imports neither torch nor Ray, and a cluster
  that goes away takes down only the driver, which is started again (and so reconnects);
- the driver (``_driver_main``) connects to the cluster, keeps a pool of actors, one run
  per actor at a time, streams each run's events back, and writes the results and model
  files the actors send into the server's store;
- ``RunActor``, on a worker node, with the resources a run asks for (a GPU when the
  cluster has them), its own result store on that node's disk (frozen-feature caches stay
  there; runs that can reuse them prefer that node) and its loaded components warm
  between runs.

Results travel through Ray's object store, not a shared filesystem: a partial run's inputs
that only the server holds are sent to the actor before it starts, and every stored result
(with its model file) comes back as soon as its node finishes. A trainer's checkpoint comes
back the same way at the end of every epoch (before that epoch's metrics), and a resumed run
is sent the checkpoints its trainers continue from: a node that dies takes nothing with it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import socket
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.engine import MemoryCache
from backend.engine import events as ev
from backend.engine.settings import GB, MAX_GB, MAX_KEEP_S, CacheBudget, WorkerMemory

from . import checkpoint_files
from .process import ProcessWorker, exit_with_parent

log = logging.getLogger("abacus.ray")
START_ATTEMPTS = 4     # actors tried for a run whose actor dies before the run starts on it
START_RETRY_S = 2.0    # the pause between them: the cluster takes a moment to see a node gone


def unreachable(address: str, timeout: float = 5.0) -> str | None:
    """Why nothing listens at HOST:PORT (None when something does)."""
    host, _, port = address.rpartition(":")
    if host.startswith("ray://"):
        host = host[len("ray://"):]
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout):
            return None
    except ValueError:
        return f"'{address}' is not HOST:PORT"
    except OSError as err:
        return f"nothing answers at {address} ({err.strerror or err})"


# ----------------------------------------------------------------------------- the actor
NODE_BUDGET_ENV = {"max_bytes": ("ABACUS_CACHE_MAX_GB", GB), "min_free_bytes": ("ABACUS_CACHE_MIN_FREE_GB", GB),
                   "keep_recent_s": ("ABACUS_CACHE_KEEP_RECENT_S", 1)}


def node_budget(studio: dict[str, Any] | None) -> CacheBudget:
    """The cache's budget on a worker node: the studio's, with what the node's own environment
    sets on top (ABACUS_CACHE_MAX_GB and the others, as ABACUS_RAY_WORKER_CACHE: it knows its disks)."""
    values = CacheBudget.model_validate(studio or {}).model_dump()
    for field, (name, unit) in NODE_BUDGET_ENV.items():
        if os.environ.get(name):
            number = float(os.environ[name])
            if not 0 <= number <= (MAX_GB if unit == GB else MAX_KEEP_S):
                raise ValueError(f"{name}={os.environ[name]} on node {os.uname().nodename} is out of range")
            values[field] = int(number * unit) if field.endswith("bytes") else number
    return CacheBudget.model_validate(values)


class RunActor:
    """Executes one run at a time on a worker node (``max_concurrency`` lets cancel, the
    input transfer and predictions through while a run goes on)."""

    def __init__(self, worker_cache: str | None = None, memory_limits: dict[str, Any] | None = None,
                 budget: dict[str, Any] | None = None) -> None:
        import ray

        from backend.store.artifacts import FileResultStore

        from .local import prediction_models, warm_up

        context = ray.get_runtime_context()
        self.node_id = context.get_node_id()
        cpus = context.get_assigned_resources().get("CPU") or 1
        self.threads = max(1, int(cpus))   # torch uses the CPUs reserved, no more
        # the node's own setting first (it knows its disks), then the studio's, then its temp dir:
        # one folder for the host, not one per node id (a restarted node finds what it made, and
        # nothing is left behind unbudgeted); results are written whole, so nodes may share it
        root = Path(os.environ.get("ABACUS_RAY_WORKER_CACHE") or worker_cache
                    or Path(tempfile.gettempdir()) / "abacus-ray-cache")
        self.store = FileResultStore(root)
        self.root = str(root.resolve())
        limits = WorkerMemory.model_validate(memory_limits or {})
        self.budget = node_budget(budget)   # the node's store, after each run
        self.memory = MemoryCache(limits.results_bytes)
        self.cancelled: set[str] = set()
        self.models = prediction_models(limits.models_bytes)
        self.me = ev.WorkerInfo(kind="ray", node_id=self.node_id, node_ip=ray.util.get_node_ip_address(),
                                pid=os.getpid(), gpus=[str(g) for g in ray.get_gpu_ids()])
        threading.Thread(target=warm_up, daemon=True, name="abacus-warm-up").start()

    def where(self) -> dict[str, Any]:
        return self.me.model_dump(exclude_none=True)

    def missing(self, keys: list[str]) -> list[str]:
        return [k for k in keys if not self.store.has(k)]

    def receive(self, bundles: dict[str, dict[str, bytes]], server_root: str) -> int:
        from backend.store.artifacts import rebase_bundle

        for files in bundles.values():
            self.store.write_files(rebase_bundle(files, server_root, self.root))
        return len(bundles)

    def receive_checkpoints(self, sent: dict[str, dict[str, Any]]) -> int:
        """The checkpoints a resumed run's trainers continue from (the studio keeps the newest of
        each); one this node holds of a later epoch (it wrote it itself) is kept instead."""
        taken = 0
        for key, ck in sent.items():
            folder = checkpoint_files.folder_of(self.root, key)
            here = checkpoint_files.newest(folder)
            if here is None or here[0] < ck["epoch"]:
                checkpoint_files.keep(folder, ck["name"], ck["data"])
                taken += 1
        return taken

    def cancel(self, run_id: str) -> None:
        self.cancelled.add(run_id)

    def execute(self, prepared: dict[str, Any], server_root: str):
        """A streaming generator: ("files", bundle) for each stored result (before its
        node.finished), ("checkpoint", {key, epoch, name, data}) for a trainer's newest
        checkpoint (before the metrics of the epoch it ends), ("events", [...]) for everything
        else, in order."""
        from backend.store.artifacts import rebase, rebase_bundle

        from .execution import execute_prepared

        run_id = prepared["run_id"]
        keys: dict[str, str] = prepared.get("keys", {})
        items: queue.Queue = queue.Queue()
        done = object()
        shipped: dict[str, int] = {}   # cache key -> the epoch of the checkpoint sent last

        def send(event: dict[str, Any]) -> None:
            if event["type"] == "node.metrics" and not event.get("resumed") and event.get("node") in keys:
                # the trainer wrote this epoch's checkpoint before its metrics: it travels first
                items.put(("checkpoint", keys[event["node"]]))
            if event["type"] == "node.finished" and self.store.has(event["key"]):
                items.put(("files", rebase_bundle(self.store.bundle(event["key"]), self.root, server_root)))
            elif event["type"] == "node.log" and (event.get("model") or {}).get("model_file"):
                # the model a cancelled trainer saved: the server offers it for download too
                path = Path(event["model"]["model_file"]).resolve()
                root = Path(self.root).resolve()
                if path.is_relative_to(root) and path.is_file():
                    items.put(("files", {str(path.relative_to(root)): path.read_bytes()}))
            items.put(("event", rebase(event, self.root, server_root)))

        def work() -> None:
            try:
                execute_prepared(prepared, self.store, self.memory, send, lambda: run_id in self.cancelled, self.me,
                                 threads=self.threads)
            except BaseException as err:  # never leave the stream without an end
                items.put(("event", ev.RunFailed(run_id=run_id, seq=0, code="runtime_error",
                                                 message=f"{type(err).__name__}: {err}").model_dump(mode="json")))
            finally:
                items.put(done)

        threading.Thread(target=work, daemon=True, name=f"abacus-run-{run_id}").start()
        finished = False
        while not finished:
            item = items.get()
            batch: list[dict[str, Any]] = []
            while True:
                if item is done:
                    finished = True
                    break
                if item[0] == "checkpoint":
                    # read when its turn comes: a trainer faster than the transfer has written a
                    # newer one by then, and only that one travels
                    found = checkpoint_files.read_newest(checkpoint_files.folder_of(self.root, item[1]))
                    if found is not None and found[0] > shipped.get(item[1], 0):
                        if batch:
                            yield ("events", batch)
                            batch = []
                        shipped[item[1]] = found[0]
                        yield ("checkpoint", {"key": item[1], "epoch": found[0], "name": found[1], "data": found[2]})
                elif item[0] == "files":
                    if batch:
                        yield ("events", batch)
                        batch = []
                    yield item
                else:
                    batch.append(item[1])
                try:
                    item = items.get_nowait()
                except queue.Empty:
                    break
            if batch:
                yield ("events", batch)
        self.cancelled.discard(run_id)
        threading.Thread(target=self.prune, daemon=True, name="abacus-cache-budget").start()

    def prune(self) -> None:
        """Keep the node's store within the cache's budget (what other actors of this node used
        lately stays: ``keep_recent_s``)."""
        from backend.store import cache_budget

        try:
            cache_budget.prune(self.root, self.budget)
        except Exception as err:   # housekeeping: never a run's failure
            log.warning("applying the cache's budget to %s failed: %s", self.root, err)

    def predict(self, model_id: str, model: list[Any], image: bytes) -> dict[str, Any]:
        import ray

        from .local import PredictRequest, predict_one, reply_to

        path = Path(self.root) / "models" / f"{hashlib.sha256(model_id.encode()).hexdigest()[:32]}.pt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(ray.get(model[0]))
            os.replace(tmp, path)
        request = PredictRequest(request_id=model_id, model_file=str(path), image=image)
        result, error = reply_to(lambda: predict_one(request, self.models))
        return {"result": result, "error": error}


# ----------------------------------------------------------------------------- the driver
@dataclass
class _Slot:
    handle: Any
    info: dict[str, Any]
    run: str | None = None
    idle_since: float = 0.0

    @property
    def node(self) -> str:
        return self.info.get("node_id", "")

    def describe(self) -> str:
        return f"{self.info.get('node_ip', '?')} (node {self.node[:12]}, pid {self.info.get('pid')})"


class _Driver:
    def __init__(self, out: Any, address: str, server_root: str, opts: dict[str, Any]) -> None:
        import ray

        from backend.store.artifacts import FileResultStore

        self.ray = ray
        self.out = out
        self.address = address
        self.server_root = server_root
        self.store = FileResultStore(server_root)
        self.cpus = float(opts.get("cpus_per_run") or 1.0)
        self.gpus = float(opts.get("gpus_per_run") or 0.0)
        self.max_runs = int(opts.get("max_runs") or 0)
        self.idle_s = float(opts.get("idle_s") or 300.0)
        self.worker_cache = opts.get("worker_cache")
        self.memory_limits = WorkerMemory.model_validate(opts.get("memory") or {})
        self.budget = CacheBudget.model_validate(opts.get("budget") or {})
        self.actor_class = ray.remote(RunActor)
        self.lock = threading.Lock()
        self.slots: list[_Slot] = []
        self.running: dict[str, _Slot] = {}
        self.cancelled: set[str] = set()
        self.made_on: dict[str, str] = {}     # cache key -> node that holds its result and caches
        # model files sent to actors for predictions (refs into Ray's object store), by bytes
        self.models = MemoryCache(self.memory_limits.models_bytes)
        self.last_ok = time.monotonic()

    # -- room on the cluster -------------------------------------------------------------
    def use_gpu(self, total: dict[str, float]) -> bool:
        return self.gpus > 0 and total.get("GPU", 0) >= self.gpus

    def capacity(self) -> int:
        total, free = self.ray.cluster_resources(), self.ray.available_resources()
        need = {"CPU": self.cpus, **({"GPU": self.gpus} if self.use_gpu(total) else {})}
        room = min(int(free.get(k, 0.0) / v + 1e-9) for k, v in need.items())
        with self.lock:
            n = len(self.slots) + room      # our idle actors hold their resources
        return min(n, self.max_runs) if self.max_runs else n

    def watch(self) -> None:
        """Report the capacity every second; a cluster gone for 20 s ends the driver (the
        caller fails its runs and starts a new driver, which reconnects)."""
        def check() -> None:
            while True:
                time.sleep(1.0)
                if time.monotonic() - self.last_ok > 20.0:
                    self.out.put(("fatal", f"lost the Ray cluster at {self.address}: no answer for 20 s"))
                    time.sleep(0.5)
                    os._exit(3)

        threading.Thread(target=check, daemon=True, name="abacus-ray-deadman").start()
        while True:
            try:
                self.release_idle()
                self.out.put(("capacity", self.capacity()))
                self.last_ok = time.monotonic()
            except Exception as err:
                log.warning("cannot read the cluster's resources: %s", err)
            time.sleep(1.0)

    # -- actors ---------------------------------------------------------------------------
    def _new_slot(self, prefer: str | None) -> _Slot:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        total = self.ray.cluster_resources()
        options: dict[str, Any] = {"num_cpus": self.cpus, "num_gpus": self.gpus if self.use_gpu(total) else 0,
                                   "max_concurrency": 8, "max_restarts": 0}
        if prefer:  # soft, and spilling: a node that is gone or has no room now is passed over
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id=prefer, soft=True,
                                                                            _spill_on_unavailable=True)
        handle = self.actor_class.options(**options).remote(self.worker_cache, self.memory_limits.model_dump(),
                                                                 self.budget.model_dump())
        return _Slot(handle=handle, info=self.ray.get(handle.where.remote()), idle_since=time.monotonic())

    def _preferred_node(self, keys: list[str]) -> str | None:
        counts = Counter(self.made_on[k] for k in keys if k in self.made_on)
        return counts.most_common(1)[0][0] if counts else None

    def forget_node(self, node: str | None) -> None:
        """A node that died holds nothing any more: runs stop preferring it."""
        with self.lock:
            self.made_on = {k: n for k, n in self.made_on.items() if n != node}

    def acquire(self, run_id: str, keys: list[str]) -> _Slot:
        """An actor for the run: an idle one on the node that holds the run's results and
        caches; else a new one there while the cluster has room; else any idle one; else a new one."""
        prefer = self._preferred_node(keys)
        room = self.capacity() if prefer else 0
        with self.lock:
            idle = [s for s in self.slots if s.run is None]
            pick = next((s for s in idle if s.node == prefer), None)
            if pick is None and idle and not (prefer and len(self.slots) < room):
                pick = idle[0]
            if pick is not None:
                pick.run = run_id
        if pick is not None:
            try:
                self.ray.get(pick.handle.where.remote(), timeout=30)
                return pick
            except Exception:
                self.drop(pick)   # it died while idle: make another
        try:
            slot = self._new_slot(prefer)
        except Exception:
            if not prefer:
                raise
            # the node that made the run's results is gone (its actor cannot start there)
            self.forget_node(prefer)
            slot = self._new_slot(None)
        slot.run = run_id
        with self.lock:
            self.slots.append(slot)
        return slot

    def release_idle(self) -> None:
        """Actors idle for ``idle_s`` give their CPUs and GPUs back to the cluster (other
        studios, CLIs and jobs share it); the next run starts a new one."""
        now = time.monotonic()
        with self.lock:
            old = [s for s in self.slots if s.run is None and now - s.idle_since > self.idle_s]
        for slot in old:
            self.drop(slot)

    def drop(self, slot: _Slot) -> None:
        with self.lock:
            if slot in self.slots:
                self.slots.remove(slot)
        try:
            self.ray.kill(slot.handle, no_restart=True)
        except Exception:
            pass

    # -- runs --------------------------------------------------------------------------------
    def send(self, events: list[dict[str, Any]]) -> None:
        self.out.put(("events", events))

    def run(self, prepared: dict[str, Any]) -> None:
        from ray import exceptions as rex

        run_id = prepared["run_id"]
        if run_id in self.cancelled:
            self.send([ev.RunCancelled(run_id=run_id, message="cancelled before it started").model_dump(mode="json")])
            return
        slot: _Slot | None = None
        ended = False
        try:
            slot = self.start(prepared)
            if run_id in self.cancelled:
                slot.handle.cancel.remote(run_id)
            stream = slot.handle.execute.options(num_returns="streaming").remote(prepared, self.server_root)
            for ref in stream:
                kind, payload = self.ray.get(ref)
                if kind == "files":
                    self.store.write_files(payload)
                    continue
                if kind == "checkpoint":
                    checkpoint_files.keep(self.checkpoint_dir(payload["key"]), payload["name"], payload["data"])
                    continue
                for event in payload:
                    if event.get("type") == "node.finished" and event.get("key"):
                        self.made_on[event["key"]] = slot.node
                        # the trained model is stored: its checkpoints have served (as where it was trained)
                        checkpoint_files.remove(self.checkpoint_dir(event["key"]))
                    ended = ended or event.get("type") in ev.TERMINAL
                self.send(payload)
            if not ended:
                raise RuntimeError("the actor's stream ended without a final event")
        except (rex.RayActorError, rex.WorkerCrashedError, rex.NodeDiedError, rex.ObjectLostError,
                rex.OwnerDiedError, rex.ActorUnavailableError) as err:
            where = slot.describe() if slot is not None else "the cluster"
            if slot is not None:
                self.drop(slot)
                self.forget_node(slot.node)
                slot = None
            if not ended:
                self.send([ev.RunFailed(run_id=run_id, code="worker_died",
                                        message=f"the Ray worker node {where} died during the run "
                                                f"({type(err).__name__}); the run stopped, nothing else is "
                                                f"lost: run it again").model_dump(mode="json")])
        except Exception as err:
            log.exception("run %s", run_id)
            if not ended:
                self.send([ev.RunFailed(run_id=run_id, code="worker_error",
                                        message=f"the Ray worker failed: {type(err).__name__}: {err}")
                           .model_dump(mode="json")])
        finally:
            with self.lock:
                self.running.pop(run_id, None)
                if slot is not None:
                    slot.run, slot.idle_since = None, time.monotonic()
            self.cancelled.discard(run_id)

    def start(self, prepared: dict[str, Any]) -> _Slot:
        """An actor for the run, sent the inputs and checkpoints it needs. One that dies before
        the run starts on it (placed on a node that died a moment ago, which the cluster had not
        noticed yet: right after a node death, when the run is an automatic resume) costs the
        run nothing: it is dropped, its node forgotten, and another tried."""
        from ray import exceptions as rex

        run_id = prepared["run_id"]
        for attempt in range(1, START_ATTEMPTS + 1):
            slot: _Slot | None = None
            try:
                slot = self.acquire(run_id, list(prepared.get("keys", {}).values()))
                with self.lock:
                    self.running[run_id] = slot
                self.send_inputs(slot, prepared)
                return slot
            except (rex.RayActorError, rex.NodeDiedError, rex.ActorUnschedulableError) as err:
                if slot is not None:
                    self.drop(slot)
                    self.forget_node(slot.node)
                with self.lock:
                    self.running.pop(run_id, None)
                if attempt == START_ATTEMPTS or run_id in self.cancelled:
                    raise
                log.warning("run %s: its actor died before the run started on it (%s); trying another",
                            run_id, type(err).__name__)
                time.sleep(START_RETRY_S)
        raise AssertionError("unreachable")

    def send_inputs(self, slot: _Slot, prepared: dict[str, Any]) -> None:
        """What the actor's node lacks: the stored inputs only the server holds, through the
        object store, and for a resumed run its trainers' checkpoints."""
        stored = list(prepared.get("stored", {}).values())
        missing = self.ray.get(slot.handle.missing.remote(stored)) if stored else []
        if missing:
            bundles = {k: self.store.bundle(k) for k in missing if self.store.has(k)}
            self.ray.get(slot.handle.receive.remote(bundles, self.server_root))
            for k in bundles:
                self.made_on.setdefault(k, slot.node)
        if (prepared.get("settings") or {}).get("resume"):
            self.send_checkpoints(slot, prepared)

    def checkpoint_dir(self, key: str) -> Path:
        return checkpoint_files.folder_of(self.server_root, key)

    def send_checkpoints(self, slot: _Slot, prepared: dict[str, Any]) -> None:
        """A resumed run's trainers continue from the checkpoints the server holds, whichever
        node wrote them: each node it executes gets its newest one."""
        keys = prepared.get("keys", {})
        sent: dict[str, dict[str, Any]] = {}
        for nid in prepared.get("execute", []):
            if nid in keys:
                found = checkpoint_files.read_newest(self.checkpoint_dir(keys[nid]))
                if found is not None:
                    sent[keys[nid]] = {"epoch": found[0], "name": found[1], "data": found[2]}
        if sent:
            self.ray.get(slot.handle.receive_checkpoints.remote(sent))

    def cancel(self, run_id: str) -> None:
        self.cancelled.add(run_id)
        with self.lock:
            slot = self.running.get(run_id)
        if slot is not None:
            slot.handle.cancel.remote(run_id)

    # -- predictions -------------------------------------------------------------------------
    def predict(self, request_id: str, model_file: str, image: bytes) -> None:
        try:
            stat = os.stat(model_file)
        except OSError as err:
            self.out.put(("reply", request_id, None, {"code": "model_missing",
                                                       "message": f"the model file is gone: {err}"}))
            return
        model_id = f"{model_file}:{stat.st_mtime_ns}:{stat.st_size}"
        try:
            ref = self.models.get(model_id)
            if ref is None:
                data = Path(model_file).read_bytes()
                ref = self.ray.put(data)
                self.models.put(model_id, ref, size=len(data))
            with self.lock:
                slots = sorted(self.slots, key=lambda s: s.run is not None)
            slot = slots[0] if slots else None
            if slot is None:
                slot = self._new_slot(None)
                with self.lock:
                    self.slots.append(slot)
            reply = self.ray.get(slot.handle.predict.remote(model_id, [ref], image))
        except Exception as err:
            reply = {"error": {"code": "worker_died", "message": f"the prediction failed on the cluster: "
                                                                  f"{type(err).__name__}: {err}"}}
        self.out.put(("reply", request_id, reply.get("result"), reply.get("error")))

    def info(self) -> dict[str, Any]:
        nodes = [n for n in self.ray.nodes() if n.get("Alive")]
        return {"kind": "ray", "pid": os.getpid(), "address": self.address,
                "nodes": [{"node_id": n["NodeID"], "address": n.get("NodeManagerAddress"),
                           "resources": n.get("Resources", {})} for n in nodes]}


def _driver_main(commands: Any, out: Any, parent_pid: int, address: str, server_root: str,
                 opts: dict[str, Any]) -> None:
    exit_with_parent(parent_pid)
    problem = unreachable(address)
    if problem:
        out.put(("fatal", f"cannot reach the Ray cluster at {address}: {problem}"))
        return
    import ray

    try:
        ray.init(address=address, namespace="abacus", log_to_driver=False, logging_level=logging.ERROR)
    except Exception as err:
        out.put(("fatal", f"cannot connect to the Ray cluster at {address}: {type(err).__name__}: {err}"))
        return
    driver = _Driver(out, address, server_root, opts)
    out.put(("hello", driver.info(), driver.capacity()))
    threading.Thread(target=driver.watch, daemon=True, name="abacus-ray-watch").start()
    while True:
        cmd = commands.get()
        if cmd is None:
            ray.shutdown()
            return
        if cmd[0] == "run":
            threading.Thread(target=driver.run, args=(cmd[1],), daemon=True, name="abacus-ray-run").start()
        elif cmd[0] == "cancel":
            driver.cancel(cmd[1])
        elif cmd[0] == "predict":
            threading.Thread(target=driver.predict, args=cmd[1:], daemon=True, name="abacus-ray-predict").start()


class RayWorker(ProcessWorker):
    """Runs on a Ray cluster; as many at once as the cluster has room for (``max_runs`` caps it)."""

    kind = "ray"
    start_timeout = 90.0

    def __init__(self, address: str, cache_dir: str | os.PathLike, *, cpus_per_run: float = 1.0,
                 gpus_per_run: float = 1.0, max_runs: int = 0, worker_cache: str | None = None,
                 idle_s: float = 300.0, memory: WorkerMemory | None = None,
                 budget: CacheBudget | None = None) -> None:
        super().__init__()
        self.address = address
        self.cache_dir = str(Path(cache_dir).resolve())
        Path(self.cache_dir).mkdir(parents=True, exist_ok=True)
        self.opts = {"cpus_per_run": cpus_per_run, "gpus_per_run": gpus_per_run, "max_runs": max_runs,
                     "worker_cache": worker_cache, "idle_s": idle_s,
                     "memory": (memory or WorkerMemory()).model_dump(),
                     "budget": (budget or CacheBudget()).model_dump()}

    def _child(self):
        return _driver_main, (self.address, self.cache_dir, self.opts)

    def death_message(self, exitcode: int | None) -> str:
        return (f"the connection to the Ray cluster at {self.address} was lost during the run; the studio "
                f"reconnects when the cluster is back: run it again")

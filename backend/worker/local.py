"""The embedded worker: a child process of the server (or the CLI) that owns torch and
executes prepared runs one at a time.

Predictions are answered by a thread of their own in the worker, so a prediction does
not wait for a training run to end. The caller's side is ``ProcessWorker``.
"""
from __future__ import annotations

import io
import os
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable

from backend.engine import events as ev
from backend.engine import MemoryCache
from backend.engine.execute import nbytes
from backend.engine.settings import WorkerMemory

from .base import WorkerError
from .execution import execute_prepared
from .process import ProcessWorker, exit_with_parent


@dataclass
class PredictRequest:
    request_id: str
    model_file: str
    image: bytes


def reply_to(compute: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(result, None) or (None, error) for one prediction; whatever it does, the caller lives on."""
    try:
        return compute(), None
    except WorkerError as err:
        return None, {"code": err.code, "message": err.message}
    except Exception as err:
        return None, {"code": "predict_failed", "message": f"{type(err).__name__}: {err}"}


def loaded_model_bytes(loaded: tuple[Any, Any]) -> int:
    """Memory a loaded model holds: the module's weights and the state it was built from."""
    model, trained = loaded
    return nbytes(model.state_dict()) + nbytes(trained.state)


def prediction_models(max_bytes: int) -> MemoryCache:
    """Models loaded for predictions, least recently used dropped first."""
    return MemoryCache(max_bytes, sizeof=loaded_model_bytes)


def _predict_loop(requests: queue.Queue, out: Any, models_bytes: int) -> None:
    models = prediction_models(models_bytes)
    while True:
        req = requests.get()
        if req is None:
            return
        out.put(("reply", req.request_id, *reply_to(lambda: predict_one(req, models))))


def predict_one(req: PredictRequest, models: MemoryCache) -> dict[str, Any]:
    from backend.predict import predict_arrays
    from components.torchkit.images import format_image
    from components.torchkit.model import load_model_file

    try:
        cache_key = (req.model_file, os.stat(req.model_file).st_mtime_ns)
    except OSError as err:
        raise WorkerError("model_missing", f"the model file is gone: {err}") from None
    loaded = models.get(cache_key)
    if loaded is None:
        try:
            loaded = load_model_file(req.model_file)
        except ValueError as err:
            raise WorkerError("model_unreadable", str(err)) from None
        models.put(cache_key, loaded)   # not kept when larger than the whole bound
    model, trained = loaded
    h, w, c = trained.input_shape
    try:
        array = format_image(io.BytesIO(req.image), h, w, c)
    except Exception as err:
        raise WorkerError("invalid_image", f"the upload is not a readable image ({type(err).__name__}: {err})") \
            from None
    return predict_arrays(model, trained, [array])[0]


def warm_up(report: Any = None) -> None:
    # Import torch while the worker waits for its first request, so a first run or
    # prediction does not pay for it (an import race with a request is safe: imports lock).
    try:
        import components.torchkit.model  # noqa: F401
        import torch._dynamo  # noqa: F401  (torch.optim imports it on the first optimizer: ~2 s)
    except Exception:
        return
    if report is not None:
        report(gpu_info())


def gpu_info() -> dict[str, Any]:
    """The first GPU's memory (``gpu_memory_bytes``), for the editor's warning about a graph
    that cannot fit it (backend/engine/cost.py); empty without a GPU."""
    try:
        import torch

        if not torch.cuda.is_available():
            return {}
        props = torch.cuda.get_device_properties(0)
        return {"gpu_memory_bytes": int(props.total_memory), "gpu_name": str(props.name)}
    except Exception:
        return {}


def limit_file_size(max_bytes: int) -> None:
    """Fault injection for tests (``Settings.worker_max_file_bytes``): no file this process
    writes may grow past ``max_bytes``. SIGXFSZ is ignored, so a write past the limit fails
    with EFBIG, as one on a full disk fails with ENOSPC, instead of killing the process."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard),
                                               hard))


class EventSender:
    """Puts the worker's events on the queue in lists: what piled up since the last put.

    One pickle, one pipe write and one read in the server per list instead of per event;
    nothing waits to fill a list, so an event leaves as soon as the thread gets to it.
    """

    def __init__(self, out: Any) -> None:
        self.out = out
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        threading.Thread(target=self._send, daemon=True, name="abacus-events").start()

    def put(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(event)
        self._ready.set()

    def _send(self) -> None:
        while True:
            self._ready.wait()
            self._ready.clear()
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                self.out.put(("events", batch))


def _local_main(commands: Any, out: Any, parent_pid: int, cache_dir: str,
                memory_limits: dict[str, Any] | None = None, max_file_bytes: int = 0) -> None:
    # Imports that pull in torch happen here, in the worker, never in the caller.
    from backend.store.artifacts import FileResultStore

    exit_with_parent(parent_pid)
    if max_file_bytes:
        limit_file_size(max_file_bytes)
    limits = WorkerMemory.model_validate(memory_limits or {})
    store = FileResultStore(cache_dir)
    memory = MemoryCache(limits.results_bytes)
    threading.Thread(target=warm_up, args=(lambda info: out.put(("info", info)),), daemon=True,
                     name="abacus-warm-up").start()
    runs: queue.Queue = queue.Queue()
    predictions: queue.Queue = queue.Queue()
    cancelled: set[str] = set()
    threading.Thread(target=_predict_loop, args=(predictions, out, limits.models_bytes), daemon=True,
                     name="abacus-predict").start()

    def read_commands() -> None:
        while True:
            cmd = commands.get()
            if cmd is None:
                runs.put(None)
                predictions.put(None)
                return
            if cmd[0] == "run":
                runs.put(cmd[1])
            elif cmd[0] == "cancel":
                cancelled.add(cmd[1])
            elif cmd[0] == "predict":
                predictions.put(PredictRequest(request_id=cmd[1], model_file=cmd[2], image=cmd[3]))

    threading.Thread(target=read_commands, daemon=True, name="abacus-commands").start()
    sender = EventSender(out)
    me = ev.WorkerInfo(kind="local", pid=os.getpid())
    out.put(("hello", me.model_dump(exclude_none=True), 1))
    while True:
        prepared = runs.get()
        if prepared is None:
            return
        run_id = prepared["run_id"]
        execute_prepared(prepared, store, memory, sender.put, lambda: run_id in cancelled, me)
        cancelled.discard(run_id)


class LocalWorker(ProcessWorker):
    """The embedded worker (the default): one child process, one run at a time."""

    kind = "local"

    def __init__(self, cache_dir: str | os.PathLike, memory: WorkerMemory | None = None, *,
                 max_file_bytes: int = 0) -> None:
        super().__init__()
        self.cache_dir = str(cache_dir)
        self.memory = memory or WorkerMemory()   # what the worker keeps in memory between runs
        self.max_file_bytes = max_file_bytes     # fault injection (tests): see limit_file_size

    def _child(self):
        return _local_main, (self.cache_dir, self.memory.model_dump(), self.max_file_bytes)

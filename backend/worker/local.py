"""The embedded worker: a separate process that owns torch and executes plans.

The caller sends run requests and reads events; a shared flag cancels the current run.
Predictions go through their own pair of queues and a thread in the worker, so the
caller never imports torch and a prediction does not wait for a training run to end.
"""
from __future__ import annotations

import io
import multiprocessing as mp
import os
import queue
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterator

from backend.engine import Executor, Graph, MemoryCache, make_plan, validate
from backend.engine import events as ev


# node.progress of one node at most every 50 ms (first and last step of a phase always):
# plenty for a progress bar, and every event is stored and sent by the server.
PROGRESS_INTERVAL_S = 0.05


@dataclass
class RunRequest:
    run_id: str
    graph: dict[str, Any]
    targets: list[str]
    mode: str = "to"
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class PredictRequest:
    request_id: str
    model_file: str
    image: bytes


class WorkerError(Exception):
    """A request the worker could not serve; ``code`` is stable (invalid_image, worker_died, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _predict_loop(requests: mp.Queue, results: mp.Queue) -> None:
    models: OrderedDict[tuple[str, int], Any] = OrderedDict()
    while True:
        req = requests.get()
        if req is None:
            return
        try:
            results.put({"id": req.request_id, "result": _predict_one(req, models)})
        except WorkerError as err:
            results.put({"id": req.request_id, "error": {"code": err.code, "message": err.message}})
        except Exception as err:  # keep the thread alive whatever one request does
            results.put({"id": req.request_id,
                         "error": {"code": "predict_failed", "message": f"{type(err).__name__}: {err}"}})


def _predict_one(req: PredictRequest, models: OrderedDict) -> dict[str, Any]:
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
        models[cache_key] = loaded
        while len(models) > 4:
            models.popitem(last=False)
    models.move_to_end(cache_key)
    model, trained = loaded
    h, w, c = trained.input_shape
    try:
        array = format_image(io.BytesIO(req.image), h, w, c)
    except Exception as err:
        raise WorkerError("invalid_image", f"the upload is not a readable image ({type(err).__name__}: {err})") \
            from None
    return predict_arrays(model, trained, [array])[0]


def _exit_with_parent(parent_pid: int) -> None:
    # A worker whose server was killed (kill -9) must not linger holding the accelerator.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


def _warm_up() -> None:
    # Import torch while the worker waits for its first request, so a first run or
    # prediction does not pay for it (an import race with a request is safe: imports lock).
    try:
        import components.torchkit.model  # noqa: F401
        import torch._dynamo  # noqa: F401  (torch.optim imports it on the first optimizer: ~2 s)
    except Exception:
        pass


class _EventSender:
    """Puts the worker's events on the queue in lists: what piled up since the last put.

    One pickle, one pipe write and one read in the server per list instead of per event;
    nothing waits to fill a list, so an event leaves as soon as the thread gets to it.
    """

    def __init__(self, events: mp.Queue) -> None:
        self.events = events
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
                self.events.put(batch)


def _worker_main(requests: mp.Queue, events: mp.Queue, cancel: Any, cache_dir: str,
                 predict_requests: mp.Queue | None = None, predict_results: mp.Queue | None = None,
                 parent_pid: int | None = None) -> None:
    # Imports that pull in torch happen here, in the worker, never in the caller.
    import components
    from backend.store.artifacts import FileResultStore

    store = FileResultStore(cache_dir)
    memory = MemoryCache()
    threading.Thread(target=_warm_up, daemon=True, name="abacus-warm-up").start()
    if parent_pid is not None:
        threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    if predict_requests is not None and predict_results is not None:
        threading.Thread(target=_predict_loop, args=(predict_requests, predict_results), daemon=True,
                         name="abacus-predict").start()
    sender = _EventSender(events)
    while True:
        req = requests.get()
        if req is None:
            return
        cancel.clear()
        seq = 0

        def emit(event: Any, _req=req) -> None:
            nonlocal seq
            seq += 1
            event.run_id, event.seq = _req.run_id, seq
            sender.put(event.model_dump(mode="json"))

        graph = Graph.model_validate(req.graph)
        validation = validate(graph, components.registry)
        if not validation.ok:
            first = validation.issues[0]
            emit(ev.RunFailed(code="invalid_graph", node=first.node,
                              message="; ".join(i.message for i in validation.issues)))
            continue
        plan = make_plan(graph, validation, components.registry, req.targets, req.mode)
        if isinstance(plan, list):
            emit(ev.RunFailed(code="unknown_target", message="; ".join(i.message for i in plan)))
            continue
        executor = Executor(graph, validation, components.registry, store, emit, memory=memory,
                            cancelled=cancel.is_set,
                            settings={"progress_interval_s": PROGRESS_INTERVAL_S, **req.settings})
        executor.run(plan)


class LocalWorker:
    """Starts the worker process on first use; ``run`` yields a run's events as dicts."""

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self.cache_dir = str(cache_dir)
        self._ctx = mp.get_context("spawn")
        self._proc: mp.Process | None = None
        self._lock = threading.Lock()
        self._predict_lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.is_alive():
                return
            self.requests = self._ctx.Queue()
            self.events = self._ctx.Queue()
            self.cancel_flag = self._ctx.Event()
            self.predict_requests = self._ctx.Queue()
            self.predict_results = self._ctx.Queue()
            self._proc = self._ctx.Process(target=_worker_main, daemon=True, name="abacus-worker",
                                           args=(self.requests, self.events, self.cancel_flag, self.cache_dir,
                                                 self.predict_requests, self.predict_results, os.getpid()))
            self._proc.start()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def submit(self, request: RunRequest) -> None:
        self.start()
        self.requests.put(request)

    def cancel(self) -> None:
        if self._proc is not None:
            self.cancel_flag.set()

    def events_until_done(self, run_id: str, poll: float = 0.2) -> Iterator[dict[str, Any]]:
        """Events of one run until it ends; a dead worker ends the run with a failure event."""
        for batch in self.event_batches_until_done(run_id, poll):
            yield from batch

    def event_batches_until_done(self, run_id: str, poll: float = 0.2,
                                 max_events: int = 500) -> Iterator[list[dict[str, Any]]]:
        """The same events in lists: each waits for something to arrive, then takes what is
        already queued (the worker sends lists of what piled up; single events are accepted too).

        Nothing waits for more events than are already there, so a batch adds no latency;
        under load the batches grow by themselves (to about ``max_events``), which lets the
        caller store them in one transaction. The run's terminal event ends the last batch.
        """
        seq = 0
        while True:
            try:
                got = self.events.get(timeout=poll)
            except queue.Empty:
                if not self.alive():
                    yield [ev.RunFailed(run_id=run_id, seq=seq + 1, code="worker_died",
                                        message=f"the worker process exited (code {self._proc.exitcode}) "
                                                f"during the run").model_dump(mode="json")]
                    return
                continue
            batch: list[dict[str, Any]] = []
            while True:
                for event in (got if isinstance(got, list) else (got,)):
                    if event.get("run_id") != run_id:
                        continue  # left over from an earlier run
                    seq = event["seq"]
                    batch.append(event)
                    if event["type"] in ev.TERMINAL:
                        yield batch
                        return
                if len(batch) >= max_events:
                    break
                try:
                    got = self.events.get_nowait()
                except queue.Empty:
                    break
            if batch:
                yield batch

    def predict(self, model_file: str, image: bytes, timeout: float = 120.0) -> dict[str, Any]:
        """Class probabilities for one encoded image; raises WorkerError."""
        with self._predict_lock:
            self.start()
            requests, results = self.predict_requests, self.predict_results
            request_id = uuid.uuid4().hex
            requests.put(PredictRequest(request_id=request_id, model_file=str(model_file), image=image))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    reply = results.get(timeout=0.2)
                except queue.Empty:
                    if not self.alive():
                        raise WorkerError("worker_died", "the worker process exited during the prediction") \
                            from None
                    continue
                if reply.get("id") != request_id:
                    continue  # the answer to an earlier request that timed out
                if "error" in reply:
                    raise WorkerError(reply["error"]["code"], reply["error"]["message"])
                return reply["result"]
            raise WorkerError("predict_timeout", f"the prediction took longer than {timeout:.0f}s")

    def kill(self) -> None:
        """End the worker process now (a run in progress is cut off)."""
        proc = self._proc
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(5.0)

    def run(self, request: RunRequest) -> Iterator[dict[str, Any]]:
        self.submit(request)
        yield from self.events_until_done(request.run_id)

    def stop(self, timeout: float = 5.0) -> None:
        if self._proc is None:
            return
        if self._proc.is_alive():
            self.requests.put(None)
            self._proc.join(timeout)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(timeout)
        self._proc = None
        time.sleep(0)

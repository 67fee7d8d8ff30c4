"""The dispatcher: hands queued runs from the database to the worker, as many at once as
the worker has free slots (oldest first), and stores every event a run sends back before
broadcasting it. It holds a ``Worker`` (the embedded process or a Ray cluster) and knows
no concrete class; a worker that is down is started again, and runs wait meanwhile.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from backend.engine import events as ev
from backend.engine.reduce import RunReducer
from backend.runs import RunRejected, RunService
from backend.settings import Settings
from backend.store.artifact_index import ArtifactIndex
from backend.store.events import EventLog
from backend.store.models import Run
from backend.store.runs import INTERRUPTED_MESSAGE, RunQueue
from backend.worker import Worker, WorkerError

from .broadcast import Broadcaster

log = logging.getLogger("abacus.dispatcher")
RESTART_EVERY_S = 5.0   # how often a worker that is down (a cluster away) is tried again


class Dispatcher:
    def __init__(self, settings: Settings, runs: RunQueue, events: EventLog, artifacts: ArtifactIndex,
                 broadcaster: Broadcaster, service: RunService, worker: Worker) -> None:
        self.settings = settings
        self.runs = runs
        self.events = events
        self.artifacts = artifacts
        self.broadcaster = broadcaster
        self.service = service
        self.worker = worker
        self.active: dict[str, threading.Thread] = {}
        self._cancel: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_start = 0.0
        self.restarts = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker (raises WorkerError when it cannot: an unreachable cluster), then the loop."""
        self.worker.start()
        self._thread = threading.Thread(target=self._loop, name="abacus-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.worker.close(timeout=3.0)   # runs still going are recorded as interrupted
        if self._thread is not None:
            self._thread.join(15.0)
        for thread in list(self.active.values()):
            if thread is not threading.current_thread():
                thread.join(10.0)

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, run_id: str) -> None:
        """Ask the worker to stop a running run (it ends with a run.cancelled event)."""
        with self._lock:
            self._cancel.add(run_id)
            running = run_id in self.active
        if running:
            self.worker.cancel(run_id)

    def worker_status(self) -> dict[str, Any]:
        return self.worker.health()

    # -- the loop ---------------------------------------------------------------------------
    def _ensure_worker(self) -> bool:
        if self.worker.health().get("alive"):
            return True
        if self._stop.is_set():
            return False
        now = time.monotonic()
        if now < self._next_start:
            return False
        self._next_start = now + RESTART_EVERY_S
        try:
            log.warning("starting the %s worker", self.worker.kind)
            self.worker.start()
            self.restarts += 1
            return True
        except WorkerError as err:
            log.warning("the %s worker is not available: %s", self.worker.kind, err.message)
            return False

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ready = self._ensure_worker() and self.worker.free_slots() > 0
                run = self.runs.claim_next() if ready else None
            except Exception:
                log.exception("dispatcher: cannot read the queue")
                self._stop.wait(1.0)
                continue
            if run is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            with self._lock:
                self.active[run.id] = threading.current_thread()
            try:
                submitted = self._hand_over(run)
            except Exception as err:
                submitted = False
                self._fail(run, err)
            if submitted:  # its events are followed by a thread of its own; the loop hands out the next
                thread = threading.Thread(target=self._follow, args=(run,), name=f"abacus-run-{run.id}",
                                          daemon=True)
                with self._lock:
                    self.active[run.id] = thread
                thread.start()
            else:
                self._done(run)

    def _hand_over(self, run: Run) -> bool:
        """Prepare the run and give it to the worker (True), or end it here (False): cancelled
        before it started, no longer valid, or answered from the store without a worker."""
        with self._lock:
            cancelled = run.id in self._cancel
        if cancelled:
            self._store(run, ev.RunCancelled(message="cancelled before it started"))
            return False
        try:
            prepared = self.service.prepare(run.graph, list(run.targets), run.mode, run_id=run.id,
                                            graph_version=run.graph_version)
        except RunRejected as err:   # a component changed under a queued run
            first = err.issues[0]
            self._store(run, ev.RunFailed(code="invalid_graph", node=first.get("node"),
                                          message="; ".join(i["message"] for i in err.issues)))
            return False
        answered = self.service.from_store(prepared)
        if answered is not None:   # every target is stored: no worker needed
            self._store_many(run, answered)
            return False
        self.worker.submit(prepared)
        return True

    def _follow(self, run: Run) -> None:
        try:
            with self._lock:
                if run.id in self._cancel:   # a cancel that came while it was being handed over
                    self.worker.cancel(run.id)
            # What the worker has already sent is stored in one transaction, then broadcast:
            # one commit per event capped the server at a few hundred events per second.
            reducer = RunReducer(run.id)
            for batch in self.worker.events(run.id):
                for i, event in enumerate(batch):
                    if isinstance(event, ev.RunFailed) and event.code == "worker_died" and self._stop.is_set():
                        batch[i] = ev.RunFailed(code="interrupted", message=INTERRUPTED_MESSAGE)
                self._store_many(run, batch, reducer)
        except Exception as err:  # a bug here must not stop the queue
            self._fail(run, err)
        finally:
            self._done(run)

    def _fail(self, run: Run, err: Exception) -> None:
        log.exception("dispatcher: run %s", run.id)
        try:
            self._store(run, ev.RunFailed(code="server_error",
                                          message=f"the server failed while running this: {type(err).__name__}: {err}"))
        except Exception:
            log.exception("dispatcher: cannot record the failure of run %s", run.id)

    def _done(self, run: Run) -> None:
        with self._lock:
            self.active.pop(run.id, None)
            self._cancel.discard(run.id)
        self._wake.set()

    # -- storing ---------------------------------------------------------------------------
    def _store(self, run: Run, event: ev.Event) -> None:
        self._store_many(run, [event])

    def _store_many(self, run: Run, events: list[ev.Event], reducer: RunReducer | None = None) -> None:
        """Store the events in one transaction, then record artifacts and publish them in order.

        ``reducer`` follows the run (its summary says which node made which model)."""
        stored = self.events.append_many(run.id, events)
        if stored is None:
            return  # the project was deleted meanwhile
        reducer = reducer or RunReducer(run.id)
        for event in stored:
            if isinstance(event, (ev.NodeFinished, ev.NodeCached)):   # what says which node made which model
                reducer.add(event)
                try:
                    self._record_model_file(run, event.node, event.key, reducer)
                except Exception:
                    log.exception("dispatcher: cannot record the outputs of %s", event.node)
        self.broadcaster.publish_many(stored, run.project_id)

    def _record_model_file(self, run: Run, node: str, key: str, reducer: RunReducer) -> None:
        """A trained model's file, when it lies in the server's store, becomes a run artifact."""
        model = reducer.summary.model(node)
        if model is None or not model.model_file:
            return
        path = Path(model.model_file).resolve()
        if path.is_relative_to(self.settings.cache_dir.resolve()):
            self.artifacts.record(run.id, node, "model", str(path), key)

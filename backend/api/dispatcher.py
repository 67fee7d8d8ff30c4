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
from typing import Any, Callable

from backend.runs import RunRejected, RunService
from backend.settings import Settings
from backend.store.artifacts import FileResultStore
from backend.store.models import Run
from backend.store.queue import INTERRUPTED_MESSAGE, RunQueue
from backend.worker import Worker, WorkerError

from .broadcast import Broadcaster

log = logging.getLogger("abacus.dispatcher")
RESTART_EVERY_S = 5.0   # how often a worker that is down (a cluster away) is tried again


class Dispatcher:
    def __init__(self, settings: Settings, runs: RunQueue, broadcaster: Broadcaster, results: FileResultStore,
                 component_of: Callable[[str], Any], service: RunService, worker: Worker) -> None:
        self.settings = settings
        self.runs = runs
        self.broadcaster = broadcaster
        self.results = results
        self.component_of = component_of   # component id -> Component (None if unknown)
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
            self._store(run, {"type": "run.cancelled", "message": "cancelled before it started"})
            return False
        try:
            prepared = self.service.prepare(run.graph, list(run.targets), run.mode, run_id=run.id,
                                            graph_version=run.graph_version)
        except RunRejected as err:   # a component changed under a queued run
            first = err.issues[0]
            self._store(run, {"type": "run.failed", "code": "invalid_graph", "node": first.get("node"),
                              "message": "; ".join(i["message"] for i in err.issues)})
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
            for batch in self.worker.events(run.id):
                for i, event in enumerate(batch):
                    if event.get("type") == "run.failed" and event.get("code") == "worker_died" \
                            and self._stop.is_set():
                        batch[i] = {"type": "run.failed", "code": "interrupted", "message": INTERRUPTED_MESSAGE}
                self._store_many(run, batch)
        except Exception as err:  # a bug here must not stop the queue
            self._fail(run, err)
        finally:
            self._done(run)

    def _fail(self, run: Run, err: Exception) -> None:
        log.exception("dispatcher: run %s", run.id)
        try:
            self._store(run, {"type": "run.failed", "code": "server_error",
                              "message": f"the server failed while running this: {type(err).__name__}: {err}"})
        except Exception:
            log.exception("dispatcher: cannot record the failure of run %s", run.id)

    def _done(self, run: Run) -> None:
        with self._lock:
            self.active.pop(run.id, None)
            self._cancel.discard(run.id)
        self._wake.set()

    # -- storing ---------------------------------------------------------------------------
    def _store(self, run: Run, event: dict[str, Any]) -> None:
        stored = self.runs.append_event(run.id, event)
        if stored is None:
            return  # the project was deleted meanwhile
        try:
            self._record_outputs(run, stored)
        except Exception:
            log.exception("dispatcher: cannot record the outputs of %s", stored.get("node"))
        self.broadcaster.publish(stored, run.project_id)

    def _store_many(self, run: Run, events: list[dict[str, Any]]) -> None:
        """Store the events in one transaction, then record outputs and publish them in order."""
        stored = self.runs.append_events(run.id, events)
        if stored is None:
            return  # the project was deleted meanwhile
        for event in stored:
            try:
                self._record_outputs(run, event)
            except Exception:
                log.exception("dispatcher: cannot record the outputs of %s", event.get("node"))
        self.broadcaster.publish_many(stored, run.project_id)

    def _record_outputs(self, run: Run, event: dict[str, Any]) -> None:
        if event.get("type") not in ("node.finished", "node.cached"):
            return
        node_id, key = event.get("node"), event.get("key")
        node = next((n for n in run.graph.get("nodes", []) if n.get("id") == node_id), None)
        comp = self.component_of(node.get("type")) if node else None
        if event["type"] == "node.finished" and comp is not None and comp.persist and key:
            path = self.results.result_path(key)
            if path.exists():
                self.runs.record_result(key, node_id, comp.id, str(path))
        cache_root = self.settings.cache_dir.resolve()
        for value in (event.get("summary") or {}).values():
            model_file = value.get("model_file") if isinstance(value, dict) else None
            if isinstance(model_file, str) and model_file:
                path = Path(model_file).resolve()
                if path.is_relative_to(cache_root):
                    self.runs.record_artifact(run.id, node_id, "model", str(path), key)

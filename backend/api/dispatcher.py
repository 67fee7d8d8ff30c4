"""The dispatcher: takes queued runs from the database, one at a time, to the embedded
worker, and stores every event it sends back before broadcasting it. It also watches
the worker process and starts a new one when it dies.
"""
from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any, Callable

from backend.settings import Settings
from backend.store.artifacts import FileResultStore
from backend.store.models import Run
from backend.store.queue import INTERRUPTED_MESSAGE, RunQueue
from backend.worker.local import LocalWorker, RunRequest

from .broadcast import Broadcaster

log = logging.getLogger("abacus.dispatcher")


def _signal_name(exitcode: int | None) -> str:
    if exitcode is None or exitcode >= 0:
        return f"exit code {exitcode}"
    try:
        return f"killed by {signal.Signals(-exitcode).name}"
    except ValueError:
        return f"killed by signal {-exitcode}"


class Dispatcher:
    def __init__(self, settings: Settings, runs: RunQueue, broadcaster: Broadcaster, results: FileResultStore,
                 component_of: Callable[[str], Any]) -> None:
        self.settings = settings
        self.runs = runs
        self.broadcaster = broadcaster
        self.results = results
        self.component_of = component_of   # component id -> Component (None if unknown)
        self.worker = LocalWorker(settings.cache_dir)
        self.current: str | None = None
        self._cancel: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.restarts = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self.worker.start()
        self._thread = threading.Thread(target=self._loop, name="abacus-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self.current is not None:
            self.worker.kill()  # the run is recorded as interrupted by the loop
        if self._thread is not None:
            self._thread.join(15.0)
        self.worker.stop(timeout=3.0)

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, run_id: str) -> None:
        """Ask the worker to stop a running run (it ends with a run.cancelled event)."""
        with self._lock:
            self._cancel.add(run_id)
            if self.current == run_id:
                self.worker.cancel()

    def worker_status(self) -> dict[str, Any]:
        alive = self.worker.alive()
        return {"alive": alive, "pid": self.worker.pid if alive else None}

    # -- the loop ---------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.worker.alive():
                    self._restart_worker("the worker was not running")
                run = self.runs.claim_next()
            except Exception:
                log.exception("dispatcher: cannot read the queue")
                self._stop.wait(1.0)
                continue
            if run is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            self._execute(run)

    def _restart_worker(self, why: str) -> None:
        if self._stop.is_set():
            return
        log.warning("starting a new worker process: %s", why)
        self.worker.stop(timeout=1.0)
        self.worker.start()
        self.restarts += 1

    def _execute(self, run: Run) -> None:
        with self._lock:
            self.current = run.id
            cancelled = run.id in self._cancel
        try:
            if cancelled:
                self._store(run, {"type": "run.cancelled", "message": "cancelled before it started"})
                return
            self.worker.submit(RunRequest(run_id=run.id, graph=run.graph, targets=list(run.targets), mode=run.mode,
                                          settings={"device": self.settings.device}))
            # What the worker has already queued is stored in one transaction, then sent:
            # one commit per event capped the server at a few hundred events per second.
            for batch in self.worker.event_batches_until_done(run.id):
                died = False
                for i, event in enumerate(batch):
                    if event.get("type") == "run.started":
                        with self._lock:  # a cancel that arrived before the worker took the run
                            if run.id in self._cancel:
                                self.worker.cancel()
                    if event.get("type") == "run.failed" and event.get("code") == "worker_died":
                        died = True
                        batch[i] = self._death_event(event)
                self._store_many(run, batch)
                if died:
                    self._restart_worker("the worker died during a run")
        except Exception as err:  # a bug here must not stop the queue
            log.exception("dispatcher: run %s", run.id)
            try:
                self._store(run, {"type": "run.failed", "code": "server_error",
                                  "message": f"the server failed while running this: {type(err).__name__}: {err}"})
            except Exception:
                log.exception("dispatcher: cannot record the failure of run %s", run.id)
        finally:
            with self._lock:
                self.current = None
                self._cancel.discard(run.id)

    def _death_event(self, event: dict[str, Any]) -> dict[str, Any]:
        if self._stop.is_set():
            return {"type": "run.failed", "code": "interrupted", "message": INTERRUPTED_MESSAGE}
        proc = self.worker._proc
        how = _signal_name(proc.exitcode if proc is not None else None)
        return {**event, "code": "worker_died",
                "message": f"the worker process died during the run ({how}); the run stopped and a new "
                           f"worker has been started: run it again"}

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
            path = self.results._result_path(key)
            if path.exists():
                self.runs.record_result(key, node_id, comp.id, str(path))
        cache_root = self.settings.cache_dir.resolve()
        for value in (event.get("summary") or {}).values():
            model_file = value.get("model_file") if isinstance(value, dict) else None
            if isinstance(model_file, str) and model_file:
                path = Path(model_file).resolve()
                if path.is_relative_to(cache_root):
                    self.runs.record_artifact(run.id, node_id, "model", str(path), key)

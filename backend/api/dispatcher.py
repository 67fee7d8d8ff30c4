"""The dispatcher: hands queued runs from the database to the worker, as many at once as
the worker has free slots (oldest first), and stores every event a run sends back before
broadcasting it. It holds a ``Worker`` (the embedded process or a Ray cluster) and knows
no concrete class; a worker that is down is started again, and runs wait meanwhile.

Storage that fails (a full disk, a database refusing writes) fails the run whose events
cannot be stored (``storage_full`` / ``storage_error``, naming the node that was running)
and stops it in the worker; when even that failure cannot be stored, it is retried with
backoff, then kept in ``unrecorded`` and stored by the loop as soon as writes work again.
The dispatcher itself never stops serving: every write it makes may fail.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.engine import events as ev
from backend.engine.reduce import RunReducer
from backend.engine.settings import CacheBudget
from backend.runs import RunRejected, RunService, mlflow_export
from backend.runs.why import index_of, project_scope
from backend.settings import Settings
from backend.store import cache_budget
from backend.store.artifact_index import ArtifactIndex
from backend.store.events import ACTIVE, EventLog
from backend.store.faults import storage_failure
from backend.store.models import Run
from backend.store.runs import INTERRUPTED_MESSAGE, RunQueue
from backend.worker import Worker, WorkerError

from .broadcast import Broadcaster

log = logging.getLogger("abacus.dispatcher")
RESTART_EVERY_S = 5.0   # how often a worker that is down (a cluster away) is tried again
END_RETRY_DELAYS_S = (0.2, 0.5, 1.0)   # storing a run's end again at once, before leaving it to the loop
UNRECORDED_RETRY_S = 2.0   # how often the loop tries again to store the ends it could not


@dataclass
class Unrecorded:
    """A run's last event (its failure, or a cancel) that could not be stored yet."""

    run: Run
    event: ev.Event


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
        self.unrecorded: dict[str, Unrecorded] = {}   # run id -> its end, waiting for writes to work
        self._claiming = False   # a run is being claimed: not yet in ``active``
        self._cancel: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_start = 0.0
        self.restarts = 0
        self._prune_due = True   # the cache's budget is applied at start and after runs, when none is running
        self._claim_lock = threading.Lock()   # claiming a run and pruning the cache never overlap
        self.last_prune: cache_budget.PruneReport | None = None   # the last pass that removed something

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker (raises WorkerError when it cannot: an unreachable cluster), then the loop."""
        self.worker.start()
        if self.settings.mlflow_tracking_uri:
            mlflow_export.warm_up()
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
        """Cancel a run in any state: a queued one at once; a running one the worker stops (it
        ends with run.cancelled); one that ended but whose end could not be stored gets it
        stored now; one marked running that nothing follows (its thread hit an error) is
        ended here. The wish is remembered first, so a cancel whose write fails (storage
        errors are raised to the caller) still applies when the run is handed out."""
        run = self.runs.get(run_id)
        if run is None or run.status not in ACTIVE:
            return
        with self._lock:
            self._cancel.add(run_id)
        if run.status == "queued":
            event = self.runs.cancel_queued(run_id)
            if event is not None:
                self._forget_cancel(run_id)
                self.broadcaster.publish(event, run.project_id)
                return
            # claimed in the meantime: it is running now
        pending = self.unrecorded.get(run_id)
        if pending is not None:   # it has ended already: what ended it is the truth to store
            self._store(pending.run, pending.event)
            self.unrecorded.pop(run_id, None)
            self._forget_cancel(run_id)
            return
        with self._lock:
            following = run_id in self.active or self._claiming
        if following:   # the wish stays until the run is done: it is checked when handed over
            self.worker.cancel(run_id)
            return
        event = self.runs.cancel_running(run_id, "cancelled; the server had lost track of this run")
        if event is not None:
            self.broadcaster.publish(event, run.project_id)
        self._forget_cancel(run_id)

    def _forget_cancel(self, run_id: str) -> None:
        with self._lock:
            if run_id not in self.active:
                self._cancel.discard(run_id)

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
        next_retry = 0.0
        claim_failing = False
        while not self._stop.is_set():
            if self.unrecorded and time.monotonic() >= next_retry:
                self._store_unrecorded()
                next_retry = time.monotonic() + UNRECORDED_RETRY_S
            if self._prune_due and not self.active:
                self._prune_due = False
                try:
                    self.prune()
                except Exception:   # the budget is housekeeping: it never stops the queue
                    log.exception("dispatcher: applying the cache's budget failed")
            try:
                ready = self._ensure_worker() and self.worker.free_slots() > 0
                with self._lock:
                    self._claiming = ready
                with self._claim_lock:
                    run = self.runs.claim_next() if ready else None
                    if run is not None:
                        with self._lock:
                            self.active[run.id] = threading.current_thread()
            except Exception as err:
                failure = storage_failure(err)
                if failure is None:
                    log.exception("dispatcher: cannot read the queue")
                elif not claim_failing:   # once, not every second while the disk stays full
                    log.warning("dispatcher: cannot claim the next run (%s): %s; trying every second", *failure)
                claim_failing = failure is not None
                self._stop.wait(1.0)
                continue
            finally:
                with self._lock:
                    self._claiming = False
            if claim_failing and ready:
                log.warning("dispatcher: the queue can be written again")
                claim_failing = False
            if run is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
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
            self._end(run, ev.RunCancelled(message="cancelled before it started"))
            return False
        try:
            prepared = self.service.prepare(run.graph, list(run.targets), run.mode, run_id=run.id,
                                            graph_version=run.graph_version, resume=run.resumed_from is not None,
                                            scope=project_scope(run.project_id))
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

    # -- resuming ----------------------------------------------------------------------------
    def resume(self, run: Run, *, auto: bool = False) -> Run:
        """Queue a new run of ``run``'s graph version and targets that continues from the
        checkpoints its trainers left (finished nodes come from the cache). ``auto``: the studio
        resumes it by itself after a worker death. Raises RunRejected when the graph cannot run
        any more (a data folder gone, a component changed)."""
        self.service.prepare(run.graph, list(run.targets), run.mode, run_id=run.id, graph_version=run.graph_version,
                             resume=True)
        resumed, event = self.runs.enqueue(run.project_id, run.graph, list(run.targets), run.mode, run.graph_version,
                                           resumed_from=run.id, auto_resumes=run.auto_resumes + 1 if auto else 0)
        self.broadcaster.publish(event, run.project_id)
        self.wake()
        return resumed

    def _resume_after_death(self, run: Run) -> None:
        """The policy after a worker death: resume by itself, at most ``auto_resume`` times in a
        row (counted along the chain of automatic resumes), so a crash that repeats does not
        loop; after that the run stays failed and a person may resume it."""
        if run.auto_resumes >= self.settings.auto_resume:
            if self.settings.auto_resume:
                log.warning("run %s: its worker died again; it stays failed (resume it by hand)", run.id)
            return
        try:
            resumed = self.resume(run, auto=True)
        except RunRejected as err:
            log.warning("run %s: its worker died and it cannot be resumed: %s", run.id, err)
        except Exception:
            log.exception("dispatcher: cannot resume run %s", run.id)
        else:
            log.warning("run %s: its worker died; resumed as run %s", run.id, resumed.id)

    def _follow(self, run: Run) -> None:
        node: str | None = None   # the node executing now: named when the run is cut off
        stream = None
        died = False   # the run ended because its worker died (not because the server stops)
        try:
            with self._lock:
                if run.id in self._cancel:   # a cancel that came while it was being handed over
                    self.worker.cancel(run.id)
            # What the worker has already sent is stored in one transaction, then broadcast:
            # one commit per event capped the server at a few hundred events per second.
            reducer = RunReducer(run.id)
            export = self._mlflow_export(run)
            stream = self.worker.events(run.id)
            for batch in stream:
                for i, event in enumerate(batch):
                    if isinstance(event, ev.NodeStarted):
                        node = event.node
                    elif isinstance(event, (ev.NodeFinished, ev.NodeFailed, ev.NodeCached)) and event.node == node:
                        node = None
                    elif isinstance(event, ev.RunFailed) and event.code == "worker_died":
                        if self._stop.is_set():
                            event = batch[i] = ev.RunFailed(code="interrupted", message=INTERRUPTED_MESSAGE)
                        died = event.code == "worker_died"
                        if event.node is None:
                            event.node = node
                try:
                    self._store_exported(run, batch, reducer, export)
                except Exception as err:
                    # Its events cannot be stored: the run fails and stops in the worker. A run
                    # that ended in the worker failed or cancelled keeps that end (the worker's
                    # storage_full naming its node, say); one that finished fails: what it made
                    # is not on record.
                    end = next((e for e in batch if e.type in ev.TERMINAL), None)
                    if end is None:
                        self.worker.cancel(run.id)
                    self._fail(run, err, node=node,
                               end=end if isinstance(end, (ev.RunFailed, ev.RunCancelled)) else None)
                    return
        except Exception as err:  # a bug here must not stop the queue
            self._fail(run, err, node=node)
            died = False
        finally:
            if stream is not None:
                stream.close()   # a run left early: the worker's later events for it are dropped
            self._done(run)
        if died and not self._stop.is_set():
            self._resume_after_death(run)

    def _fail(self, run: Run, err: Exception, node: str | None = None, end: ev.Event | None = None) -> None:
        """End ``run`` failed because of ``err``: storage_full / storage_error when storage
        failed, server_error for anything else (``end``: the failure to store instead)."""
        failure = storage_failure(err)
        if failure is None:
            log.exception("dispatcher: run %s", run.id)
        else:
            log.warning("dispatcher: run %s fails, its events cannot be stored (%s): %s", run.id, *failure)
        if end is None:
            if failure is not None:
                code, message = failure[0], f"the run's events could not be stored: {failure[1]}"
            else:
                code, message = "server_error", f"the server failed while running this: {type(err).__name__}: {err}"
            end = ev.RunFailed(code=code, node=node, message=message)
        self._end(run, end)

    def _end(self, run: Run, event: ev.Event) -> None:
        """Store a run's last event, trying again with backoff; when it still cannot be stored,
        the loop keeps trying (``unrecorded``) and this thread goes on serving."""
        for delay in (*END_RETRY_DELAYS_S, None):
            try:
                self._store(run, event)
                self.unrecorded.pop(run.id, None)
                return
            except Exception as err:
                failure = storage_failure(err)
                if delay is None or self._stop.is_set():
                    log.warning("dispatcher: cannot store the end of run %s yet (%s); will try again", run.id,
                                failure[1] if failure else f"{type(err).__name__}: {err}")
                    self.unrecorded[run.id] = Unrecorded(run=run, event=event)
                    return
                self._stop.wait(delay)

    def _store_unrecorded(self) -> None:
        """Store the ends that could not be stored before (storage works again), oldest first."""
        for run_id, pending in list(self.unrecorded.items()):
            try:
                current = self.runs.get(run_id)
                if current is not None and current.status in ACTIVE:
                    self._store(pending.run, pending.event)
                    log.warning("dispatcher: stored the end of run %s (%s)", run_id, pending.event.type)
                self.unrecorded.pop(run_id, None)
            except Exception as err:
                failure = storage_failure(err)
                log.debug("dispatcher: still cannot store the end of run %s: %s", run_id, failure or err)
                return   # storage still fails: the next round tries again

    def _done(self, run: Run) -> None:
        with self._lock:
            self.active.pop(run.id, None)
            self._cancel.discard(run.id)
        self._prune_due = True
        self._wake.set()

    def prune(self, budget: CacheBudget | None = None, *, keep_models: bool = False) -> cache_budget.PruneReport | None:
        """Keep the studio's result store within its budget (``backend/store/cache_budget.py``),
        while no run goes on: None when one does (it is applied after the last one ends)."""
        with self._claim_lock:
            with self._lock:
                busy = bool(self.active)
            if busy:
                self._prune_due = True
                return None
            report = cache_budget.prune(self.settings.cache_dir, budget or self.settings.cache_budget(),
                                        keep_models=keep_models)
        if report.removed:
            self.last_prune = report
            log.info("the cache was over its budget (%s): removed %d entries (%d trained models), %d MB; %d MB left",
                     report.why, report.removed, report.removed_models, report.freed_bytes // 2**20,
                     report.bytes_after // 2**20)
        return report

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
        self._index_results(run, stored)
        for event in stored:
            # what says which node made which model: its result, or the model a cancelled trainer saved
            if isinstance(event, (ev.NodeFinished, ev.NodeCached)) or (isinstance(event, ev.NodeLog) and event.model):
                reducer.add(event)
                try:
                    self._record_model_file(run, event.node, getattr(event, "key", None), reducer)
                except Exception:
                    log.exception("dispatcher: cannot record the outputs of %s", event.node)
        self.broadcaster.publish_many(stored, run.project_id)

    def _mlflow_export(self, run: Run) -> mlflow_export.MlflowExport | None:
        """The run's MLflow export when one is set: an experiment named after its project."""
        uri = self.settings.mlflow_tracking_uri
        if not uri:
            return None
        from backend.engine.graph_diff import registry_defaults
        from backend.store.models import Project

        try:
            with self.runs.db.read() as s:
                project = s.get(Project, run.project_id)
            tags = {"abacus.project_id": str(run.project_id)}
            if run.graph_version is not None:
                tags["abacus.graph_version"] = str(run.graph_version)
            return mlflow_export.MlflowExport(uri, project.name if project else f"project {run.project_id}",
                                              run.id, run.graph, defaults=registry_defaults(self.service.registry),
                                              tags=tags)
        except Exception:   # an export never breaks a run
            log.exception("dispatcher: no MLflow export for run %s", run.id)
            return None

    def _store_exported(self, run: Run, batch: list[ev.Event], reducer: RunReducer,
                        export: mlflow_export.MlflowExport | None) -> None:
        """Store a batch; with an MLflow export, each finished trainer is logged once its events are
        stored (the editor sees it finish at once) and the export's line goes in before the run's end."""
        if export is None:
            self._store_many(run, batch, reducer)
            return
        end = next((i for i, e in enumerate(batch) if e.type in ev.TERMINAL), len(batch))
        head, tail = batch[:end], batch[end:]
        if head:
            self._store_many(run, head, reducer)
        lines = [line for event in head for line in export.observe(event)]
        if lines or tail:
            self._store_many(run, lines + tail, reducer)

    def _index_results(self, run: Run, events: list[ev.Event]) -> None:
        """Each node's made or served result goes into the result index (why a later run ran it)."""
        index = index_of(self.service.store)
        if index is None:
            return
        for event in events:
            if isinstance(event, (ev.NodeFinished, ev.NodeCached)):
                try:
                    index.record(project_scope(run.project_id), event)
                except Exception:   # the index explains; a failure to write it never fails a run
                    log.warning("dispatcher: cannot index the result of %s in run %s", event.node, run.id)

    def _record_model_file(self, run: Run, node: str, key: str | None, reducer: RunReducer) -> None:
        """A trained model's file, when it lies in the server's store, becomes a run artifact."""
        model = reducer.summary.model(node)
        if model is None or not model.model_file:
            return
        path = Path(model.model_file).resolve()
        if path.is_relative_to(self.settings.cache_dir.resolve()):
            self.artifacts.record(run.id, node, "model", str(path), key)

"""The embedded worker: a separate process that owns torch and executes plans.

The caller sends run requests and reads events; a shared flag cancels the current run.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from backend.engine import Executor, Graph, MemoryCache, make_plan, validate
from backend.engine import events as ev


@dataclass
class RunRequest:
    run_id: str
    graph: dict[str, Any]
    targets: list[str]
    mode: str = "to"
    settings: dict[str, Any] = field(default_factory=dict)


def _worker_main(requests: mp.Queue, events: mp.Queue, cancel: Any, cache_dir: str) -> None:
    # Imports that pull in torch happen here, in the worker, never in the caller.
    import components
    from backend.store.artifacts import FileResultStore

    store = FileResultStore(cache_dir)
    memory = MemoryCache()
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
            events.put(event.model_dump(mode="json"))

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
                            cancelled=cancel.is_set, settings=req.settings)
        executor.run(plan)


class LocalWorker:
    """Starts the worker process on first use; ``run`` yields a run's events as dicts."""

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self.cache_dir = str(cache_dir)
        self._ctx = mp.get_context("spawn")
        self._proc: mp.Process | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.is_alive():
                return
            self.requests = self._ctx.Queue()
            self.events = self._ctx.Queue()
            self.cancel_flag = self._ctx.Event()
            self._proc = self._ctx.Process(target=_worker_main, daemon=True, name="abacus-worker",
                                           args=(self.requests, self.events, self.cancel_flag, self.cache_dir))
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
        seq = 0
        while True:
            try:
                event = self.events.get(timeout=poll)
            except queue.Empty:
                if not self.alive():
                    yield ev.RunFailed(run_id=run_id, seq=seq + 1, code="worker_died",
                                       message=f"the worker process exited (code {self._proc.exitcode}) "
                                               f"during the run").model_dump(mode="json")
                    return
                continue
            if event.get("run_id") != run_id:
                continue
            seq = event["seq"]
            yield event
            if event["type"] in ev.TERMINAL:
                return

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

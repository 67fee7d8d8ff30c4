"""Executing a plan node by node, with caching, events and cancellation.

This runs inside the worker process. It stays free of torch itself; components import it
in ``run``.
"""
from __future__ import annotations

import time
import traceback
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Protocol

from . import events as ev
from .component import Registry
from .graph import Graph
from .plan import Plan, split_cached
from .settings import RunSettings
from .summaries import CacheNote, NodeSummary, ValueSummary
from .validate import Validation


class Cancelled(Exception):
    """Raised inside a component when the run is cancelled; the executor stops cleanly."""


class NodeError(Exception):
    """A failure a person can act on (bad folder, missing weights, corrupt file)."""

    def __init__(self, message: str, *, code: str = "node_error", param: str | None = None):
        super().__init__(message)
        self.code = code
        self.param = param


class ResultStore(Protocol):
    """Persistent results: node outputs by cache key, plus a folder per key for artifacts."""

    def has(self, key: str) -> bool: ...
    def load(self, key: str) -> dict[str, Any]: ...
    def save(self, key: str, node_id: str, component: str, outputs: dict[str, Any]) -> None: ...
    def artifact_dir(self, key: str) -> Path: ...


class MemoryCache:
    """Small results kept in the worker between runs, least recently used dropped first."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, key: str) -> dict[str, Any] | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, outputs: dict[str, Any]) -> None:
        self._items[key] = outputs
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        return key in self._items


_NO_PHASE = object()


class Context:
    """What a component's ``run`` sees: reporting, cancellation, artifacts, settings."""

    def __init__(self, executor: "Executor", node_id: str, key: str):
        self._executor = executor
        self.node_id = node_id
        self.key = key
        self.settings: RunSettings = executor.settings
        # node.progress at most once per interval (0: every call): a batch-1 trainer calls
        # this ~1,000 times a second and every event is stored.
        self._progress_interval = self.settings.progress_interval_s
        self._last_progress = 0.0
        self._last_phase: Any = _NO_PHASE
        self._last_step = 0

    # -- reporting --------------------------------------------------------------
    def progress(self, step: int, total: int | None = None, unit: str = "step",
                 phase: str | None = None) -> None:
        """Report progress; cancellation is checked on every call, even an unsent one.

        With an interval, the first step of a phase and its last step are always sent.
        """
        self.check_cancelled()
        if self._progress_interval > 0:
            now = time.monotonic()
            first = phase != self._last_phase or step < self._last_step
            last = total is not None and step >= total
            self._last_step = step
            if not (first or last or now - self._last_progress >= self._progress_interval):
                return
            self._last_phase, self._last_progress = phase, now
        self._executor.emit(ev.NodeProgress(node=self.node_id, step=step, total=total, unit=unit,
                                            phase=phase))

    def metrics(self, epoch: int, values: dict[str, float]) -> None:
        self._executor.emit(ev.NodeMetrics(node=self.node_id, epoch=epoch,
                                           metrics={k: float(v) for k, v in values.items()}))

    def log(self, message: str, level: str = "info", cache: CacheNote | None = None, **data: Any) -> None:
        """A log line; ``cache`` when it tells of a cache, ``data`` for further details."""
        self._executor.emit(ev.NodeLog(node=self.node_id, level=level, message=message, cache=cache, data=data))

    def check_cancelled(self) -> None:
        if self._executor.cancelled():
            raise Cancelled()

    # -- storage ------------------------------------------------------------------
    def artifact_dir(self, key: str | None = None) -> Path:
        """A folder for costly files under a cache key (this node's key by default)."""
        return self._executor.store.artifact_dir(key or self.key)

    def deferred(self, node_id: str) -> dict[str, Any]:
        """The current deferred params of an ancestor node (see ``component.deferred``)."""
        params = self._executor.validation.params[node_id]
        comp = self._executor.registry.get(self._executor.nodes[node_id].type)
        return {k: getattr(params, k) for k in comp.deferred_params()}

    def node_type(self, node_id: str) -> str | None:
        node = self._executor.nodes.get(node_id)
        return node.type if node else None


class Executor:
    def __init__(self, graph: Graph, validation: Validation, registry: Registry, store: ResultStore,
                 emit: Callable[[Any], None], memory: MemoryCache | None = None,
                 cancelled: Callable[[], bool] = lambda: False, settings: RunSettings | None = None,
                 worker: ev.WorkerInfo | None = None):
        self.graph = graph
        self.validation = validation
        self.registry = registry
        self.store = store
        self.emit = emit
        self.memory = memory if memory is not None else MemoryCache()
        self.cancelled = cancelled
        self.settings = settings or RunSettings()
        self.worker = worker   # who runs this, reported in run.started
        self.results: dict[str, dict[str, Any]] = {}   # node id -> outputs, this run
        self.nodes = {n.id: n for n in graph.nodes}

    def _has(self, key: str) -> bool:
        return key in self.memory or self.store.has(key)

    def _load(self, nid: str, key: str) -> dict[str, Any]:
        if nid not in self.results:
            out = self.memory.get(key)
            if out is None:
                out = self.store.load(key)
                self.memory.put(key, out)
            self.results[nid] = out
        return self.results[nid]

    def schedule(self, plan: Plan) -> tuple[list[str], list[str]]:
        """Split the plan into nodes to execute and nodes served from the cache."""
        return split_cached(plan, self.validation.inputs, lambda nid: self._has(plan.keys[nid]))

    def run(self, plan: Plan) -> str:
        """Execute the plan; returns 'finished', 'failed' or 'cancelled'."""
        started = time.time()
        execute, cached = self.schedule(plan)
        self.emit(ev.RunStarted(plan=execute, cached=cached, worker=self.worker))
        current = None
        try:
            for nid in cached:
                current = nid
                outputs = self._load(nid, plan.keys[nid])
                self.emit(ev.NodeCached(node=nid, key=plan.keys[nid], summary=summaries(outputs)))
            for nid in execute:
                current = nid
                self._run_node(nid, plan.keys[nid], plan)
        except Cancelled:
            self.emit(ev.RunCancelled(node=current, message=f"cancelled during {current}"))
            return "cancelled"
        except NodeError as err:
            self.emit(ev.NodeFailed(node=current, code=err.code, message=str(err)))
            self.emit(ev.RunFailed(node=current, code=err.code, message=str(err)))
            return "failed"
        except Exception as err:  # a bug or an environment problem: keep the traceback for debugging
            message = f"{type(err).__name__}: {err}"
            debug = traceback.format_exc()
            self.emit(ev.NodeFailed(node=current, code="runtime_error", message=message, debug=debug))
            self.emit(ev.RunFailed(node=current, code="runtime_error", message=message, debug=debug))
            return "failed"
        self.emit(ev.RunFinished(seconds=round(time.time() - started, 3)))
        return "finished"

    def _run_node(self, nid: str, key: str, plan: Plan) -> None:
        node = self.nodes[nid]
        comp = self.registry.get(node.type)
        inputs = {}
        for port, (src, src_port) in self.validation.inputs.get(nid, {}).items():
            inputs[port] = self._load(src, plan.keys[src])[src_port]
        self.emit(ev.NodeStarted(node=nid))
        t0 = time.time()
        ctx = Context(self, nid, key)
        outputs = comp.run(ctx, self.validation.params[nid], inputs)
        self.results[nid] = outputs
        self.memory.put(key, outputs)
        if comp.persist:
            self.store.save(key, nid, comp.id, outputs)
        self.emit(ev.NodeFinished(node=nid, key=key, seconds=round(time.time() - t0, 3),
                                  summary=summaries(outputs)))


def summaries(outputs: dict[str, Any]) -> dict[str, NodeSummary]:
    """Each output port's summary: what the value says of itself, else its type name."""
    out: dict[str, NodeSummary] = {}
    for port, value in outputs.items():
        describe = getattr(value, "summary", None)
        out[port] = describe() if callable(describe) else ValueSummary(type=type(value).__name__)
    return out

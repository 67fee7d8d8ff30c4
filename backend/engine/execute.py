"""Executing a plan node by node, with caching, events and cancellation.

This runs inside the worker process. It stays free of torch itself; components import it
in ``run``.
"""
from __future__ import annotations

import dataclasses
import sys
import threading
import time
import traceback
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Protocol

from . import events as ev
from .component import Registry
from .graph import Graph
from .plan import Plan, ancestors, split_cached
from .provenance import Provenance, new_provenance
from .settings import RunSettings
from .storage import storage_failure
from .summaries import CacheNote, ModelSummary, NodeSummary, ValueSummary
from .validate import Validation
from .why import settle


class Cancelled(Exception):
    """Raised inside a component when the run is cancelled; the executor stops cleanly."""


class NodeError(Exception):
    """A failure a person can act on (bad folder, missing weights, corrupt file)."""

    def __init__(self, message: str, *, code: str = "node_error", param: str | None = None,
                 params: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.param = param
        # what the editor's sentence for ``code`` names (with the param at fault, when there is one)
        self.params = {**({"param": param} if param else {}), **(params or {})}


class ResultStore(Protocol):
    """Persistent results: node outputs by cache key, plus a folder per key for artifacts."""

    def has(self, key: str) -> bool: ...
    def load(self, key: str) -> dict[str, Any]:
        """The outputs stored under ``key``; raises CorruptResult (having removed the files)
        when they cannot be trusted."""
        ...
    def save(self, key: str, node_id: str, component: str, outputs: dict[str, Any]) -> None: ...
    def artifact_dir(self, key: str) -> Path: ...


class CorruptResult(Exception):
    """A stored result that cannot be trusted (a file whose digest or size is wrong, or that
    does not load). The store has removed its files when it raises this: the result is missing
    now, and the node runs again."""

    def __init__(self, key: str, message: str, files: list[str] | None = None):
        super().__init__(message)
        self.key = key
        self.files = list(files or [])


MB = 1024 * 1024
# What an entry costs besides its tensors (its dicts, strings and the cache's own books): so
# that many tiny entries are bounded too, and a bound of 0 keeps nothing.
ENTRY_OVERHEAD = 1024


def nbytes(value: Any, _seen: set[int] | None = None) -> int:
    """The bytes of the tensors and arrays a value holds, walking dicts, lists, tuples and
    dataclasses; strings count their length. Duck typed (no torch here): anything with an
    ``nbytes`` (a torch tensor or numpy array: numel * element size; a value object may
    define an ``nbytes()`` method) counts that. A tensor reached twice counts once."""
    seen = set() if _seen is None else _seen
    if isinstance(value, (str, bytes, bytearray)):
        return len(value)
    if value is None or isinstance(value, (bool, int, float)):
        return 0
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = getattr(value, "nbytes", None)
    if callable(size):
        size = size()
    if isinstance(size, int):
        return size
    if isinstance(value, dict):
        return sum(nbytes(k, seen) + nbytes(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(nbytes(v, seen) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    return 0


class MemoryCache:
    """Values kept in memory between runs, bounded by bytes: the least recently used go first.

    An entry's size is ``sizeof(value)`` (by default the bytes of the tensors it holds, see
    ``nbytes``) plus a small overhead; an entry larger than the whole bound is not kept. The
    executor keeps every node's outputs here; the ones worth keeping across a restart are in
    the store as well, the rest are cheap to make again (components that do not ``persist``).
    Thread safe: a worker's predictions share one from several threads.
    """

    def __init__(self, max_bytes: int = 1024 * MB, sizeof: Callable[[Any], int] = nbytes) -> None:
        self.max_bytes = max_bytes
        self.sizeof = sizeof
        self.total = 0   # bytes held now
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Any, value: Any, size: int | None = None) -> bool:
        """Keep ``value`` (``size``: its bytes when the caller knows them); False when it is
        larger than the whole bound and so not kept."""
        size = (self.sizeof(value) if size is None else size) + ENTRY_OVERHEAD
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.total -= old[1]
            if size > self.max_bytes:
                return False
            self._items[key] = (value, size)
            self.total += size
            while self.total > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self.total -= dropped
            return True

    def discard(self, key: Any) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.total -= old[1]

    def keys(self) -> list[Any]:
        """Least recently used first."""
        with self._lock:
            return list(self._items)

    def __contains__(self, key: Any) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


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
                 phase: str | None = None, *, code: str | None = None, split: str | None = None,
                 epoch: int | None = None, epochs: int | None = None) -> None:
        """Report progress; cancellation is checked on every call, even an unsent one.

        ``phase`` says what is being done in English (the command line); ``code`` with ``split``,
        ``epoch`` and ``epochs`` say it for the editor, which words it in the person's language.
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
                                            phase=phase, code=code, split=split, epoch=epoch, epochs=epochs))

    def metrics(self, epoch: int, values: dict[str, float], best_epoch: int | None = None,
                resumed: bool = False, stopped_early: bool = False) -> None:
        """One epoch's metrics; ``best_epoch``: the epoch whose weights the trainer keeps so far;
        ``resumed``: an epoch of an earlier run, sent again by a trainer that continues from it;
        ``stopped_early``: training stops after this epoch (early stopping)."""
        self._executor.emit(ev.NodeMetrics(node=self.node_id, epoch=epoch, best_epoch=best_epoch, resumed=resumed,
                                           stopped_early=stopped_early,
                                           metrics={k: float(v) for k, v in values.items()}))

    def log(self, message: str, level: str = "info", cache: CacheNote | None = None, *,
            code: str | None = None, params: dict[str, Any] | None = None, model: ModelSummary | None = None,
            **data: Any) -> None:
        """A log line: the English ``message``, and its ``code`` with the ``params`` the editor words
        it with; ``cache`` when it tells of a cache, ``model`` of a model file saved (a cancelled
        trainer's), ``data`` for further details."""
        self._executor.emit(ev.NodeLog(node=self.node_id, level=level, message=message, code=code,
                                       params=params or {}, cache=cache, model=model, data=data))

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

    # -- provenance -------------------------------------------------------------------
    def provenance(self, **record: Any) -> Provenance | None:
        """This node's story for a file it saves (a model file): the graph as it runs, this node,
        the versions of the components, the cache keys of this node and every node it depends on,
        and the fingerprints of their external data (the dataset's among them); ``record`` adds
        what only the component knows (the metrics). None outside a run (no plan)."""
        ex = self._executor
        plan = getattr(ex, "plan", None)
        if plan is None:
            return None
        needed = ancestors(ex.validation, [self.node_id])
        order = [nid for nid in ex.validation.order if nid in needed]
        fingerprints: dict[str, str] = {}
        dataset = None
        for nid in order:
            comp = ex.registry.get(ex.nodes[nid].type)
            params = ex.validation.params.get(nid)
            stamp = comp.fingerprint(params) if comp is not None and params is not None else None
            if stamp is not None:
                fingerprints[nid] = str(stamp)
                if dataset is None and getattr(comp, "category", None) == "data":
                    dataset = str(stamp)
        types = {n.type for n in ex.graph.nodes}
        return new_provenance(
            node=self.node_id, component=ex.nodes[self.node_id].type, graph=ex.graph.model_dump(mode="json"),
            components={t: ex.registry.get(t).version for t in sorted(types) if ex.registry.get(t) is not None},
            keys={nid: plan.keys[nid] for nid in order if nid in plan.keys}, dataset_fingerprint=dataset,
            fingerprints=fingerprints, **record)


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
        self._corrupt: set[str] = set()   # keys whose stored result was found corrupt in this run
        self._split: tuple[list[str], list[str]] = ([], [])   # the latest schedule, and the node being loaded
        self._loading: str | None = None
        self.nodes = {n.id: n for n in graph.nodes}
        self.plan: Plan | None = None   # the plan being run (its keys go into provenance records)

    def _is_cached(self, nid: str, key: str) -> bool:
        if nid in self.results:
            return True
        if key in self._corrupt:
            return False
        out = self._held(nid, key)
        if out is not None:
            # held for the run from now on: loading other results may evict it from memory,
            # and a result that lives only there (not persisted) could not be loaded again
            self.results[nid] = out
            return True
        return self.store.has(key)

    def _held(self, nid: str, key: str) -> dict[str, Any] | None:
        """The outputs the worker's memory holds for ``key``. A stored component's result counts
        only while the store still has it: one whose files were removed (by the cache's budget,
        say: a trained model without its model file) is made again, not served."""
        out = self.memory.get(key)
        if out is not None and getattr(self.registry.get(self.nodes[nid].type), "persist", False) \
                and not self.store.has(key):
            self.memory.discard(key)
            return None
        return out

    def _load(self, nid: str, key: str) -> dict[str, Any]:
        if nid not in self.results:
            out = self._held(nid, key)
            if out is None:
                out = self.store.load(key)
                self.memory.put(key, out)
            self.results[nid] = out
        return self.results[nid]

    def schedule(self, plan: Plan) -> tuple[list[str], list[str]]:
        """Split the plan into nodes to execute and nodes served from the cache."""
        return split_cached(plan, self.validation.inputs, lambda nid: self._is_cached(nid, plan.keys[nid]))

    def _schedule_loaded(self, plan: Plan, corrupt: list[tuple[str, CorruptResult]]) -> tuple[list[str], list[str]]:
        """``schedule``, with every cached node's outputs loaded. A stored result that turns
        out corrupt is missing from then on (the store removed it): the node joins the nodes
        to execute, with whatever it needs, and the split is made again."""
        while True:
            execute, cached = self._split = self.schedule(plan)
            for nid in cached:
                self._loading = nid
                try:
                    self._load(nid, plan.keys[nid])
                except CorruptResult as err:
                    self._corrupt.add(plan.keys[nid])
                    corrupt.append((nid, err))
                    break
            else:
                return execute, cached

    def _covered(self, plan: Plan, execute: list[str], cached: list[str]) -> dict[str, dict[str, NodeSummary]]:
        """The plan's nodes the run does not need (a node after them comes from the cache) whose
        results are in memory or in the store, with their summaries (nothing is loaded for them)."""
        out: dict[str, dict[str, NodeSummary]] = {}
        skip = set(execute) | set(cached)
        for nid in plan.order:
            if nid in skip:
                continue
            key = plan.keys[nid]
            held = self.results.get(nid) or self._held(nid, key)
            if held is not None:
                out[nid] = summaries(held)
            elif key not in self._corrupt and self.store.has(key):
                describe = getattr(self.store, "summary", None)
                out[nid] = (describe(key) if callable(describe) else None) or {}
        return out

    def run(self, plan: Plan) -> str:
        """Execute the plan; returns 'finished', 'failed' or 'cancelled'."""
        started = time.time()
        self.plan = plan
        corrupt: list[tuple[str, CorruptResult]] = []
        current = None
        try:
            execute, cached = self._schedule_loaded(plan, corrupt)
        except Exception:  # a stored result that fails otherwise: reported after run.started
            execute, cached = self._split
            self.emit(ev.RunStarted(plan=execute, cached=cached, worker=self.worker,
                                    why=settle(plan.why, execute, cached, [])))
            return self._failed(self._loading, plan)
        covered = self._covered(plan, execute, cached)
        self.emit(ev.RunStarted(plan=execute, cached=cached, worker=self.worker,
                                why=settle(plan.why, execute, cached, list(covered))))
        for nid, summary in covered.items():   # not needed, up to date in the cache: not "not run"
            self.emit(ev.NodeCached(node=nid, key=plan.keys[nid], summary=summary))
        for nid, err in corrupt:
            self.emit(ev.NodeLog(node=nid, level="warning", message=f"{err}: removed, the node runs again",
                                 code="cache_corrupt", data={"code": "cache_corrupt", "key": err.key, "files": list(err.files)}))
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
            self.emit(ev.NodeFailed(node=current, code=err.code, message=str(err), params=err.params,
                                    key=plan.keys.get(current)))
            self.emit(ev.RunFailed(node=current, code=err.code, message=str(err), params=err.params))
            return "failed"
        except Exception:
            return self._failed(current, plan)
        self.emit(ev.RunFinished(seconds=round(time.time() - started, 3)))
        return "finished"

    def _failed(self, current: str | None, plan: Plan) -> str:
        """A bug or an environment problem (called in ``except``): keep the traceback for debugging."""
        err = sys.exc_info()[1]
        code, message = storage_failure(err) or ("runtime_error", f"{type(err).__name__}: {err}")
        debug = traceback.format_exc()
        if current is not None:   # storage_full / storage_error: a write the disk refused (its file removed)
            self.emit(ev.NodeFailed(node=current, code=code, message=message, debug=debug,
                                    key=plan.keys.get(current)))
        self.emit(ev.RunFailed(node=current, code=code, message=message, debug=debug))
        return "failed"

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

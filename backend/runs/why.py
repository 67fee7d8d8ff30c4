"""Why each planned node runs or comes from the cache, as the server sees it before a run.

The server knows its store and the result index (``backend/store/result_index.py``); a worker's
memory it does not: a node whose component keeps results in memory only is expected to run, and
the worker settles it (``engine.why.settle``) when it serves it from memory after all.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.engine.plan import Plan, split_cached
from backend.engine.why import NodeWhy, Origin, explain
from backend.store.result_index import ResultIndex


def index_of(store: Any) -> ResultIndex | None:
    root = getattr(store, "root", None)
    return ResultIndex(root) if root is not None else None


def plan_why(plan: Plan, inputs: dict[str, dict[str, tuple[str, str]]], registry: Any, nodes: dict[str, str],
             store: Any, scope: str | None, *, resume: bool = False, memory: bool = False,
             stored: set[str] | None = None) -> dict[str, NodeWhy]:
    """Each planned node's expected verdict; the key ingredients are remembered in the index as a
    side effect (content addressed: what a key hashes never changes). ``nodes``: node id -> type.
    ``memory``: a long-lived worker is expected to still hold the results kept in memory only that a
    run made before (the studio's); a new process holds none (the command line's)."""
    index = index_of(store)
    persisted = {nid for nid in plan.order if getattr(registry.get(nodes[nid]), "persist", False)}
    origins: dict[str, Origin] = {}
    previous: dict[str, tuple[Origin, dict[str, Any] | None]] = {}
    if index is not None:
        for nid in plan.order:
            key = plan.keys[nid]
            try:
                if nid in plan.ingredients:
                    index.remember(nid, key, plan.ingredients[nid])
            except OSError:
                pass   # a read-only or full store: the explanation is still given, the next one may lack details
            origin = index.origin(key)
            if origin is not None:
                origins[nid] = origin
            latest = index.latest(scope, nid) if scope is not None else None
            if latest is not None:
                previous[nid] = (latest, index.ingredients(latest.key))
    if stored is None:   # the planned nodes whose results the store holds (the run service knows them already)
        stored = {nid for nid in plan.order if store.has(plan.keys[nid])}
    held = {nid for nid in plan.order if memory and nid not in persisted and nid in origins}
    execute, cached = split_cached(plan, inputs, lambda nid: nid in stored or nid in held)
    why = explain(plan.order, plan.keys, plan.ingredients, inputs, execute=execute, cached=cached,
                  force=plan.force, persisted=persisted, origins=origins, previous=previous, resume=resume)
    for nid, item in why.items():
        if item.reason == "missing" and index is not None:   # gone: removed by the cache's budget?
            record = index.eviction(plan.keys[nid])
            if record is not None:
                why[nid] = item.model_copy(update={"reason": "evicted", "evicted": record.get("at")})
    return why


def covered_from_store(why: dict[str, NodeWhy]) -> list[str]:
    """Nodes a run served wholly from the store did not need (a stored node after them covers
    them): up to date when a run made their current key before."""
    return [nid for nid, item in why.items() if not item.runs and not item.needed and item.origin is not None]


def project_scope(project_id: Any) -> str:
    """The index's scope of a studio project's runs."""
    return f"project:{project_id}"


def graph_scope(ref: str) -> str:
    """The index's scope of ``abacus run GRAPH`` and ``abacus plan GRAPH``: the graph file (absolute)
    or template id it was given."""
    from pathlib import Path

    path = Path(ref)
    return f"graph:{path.resolve() if path.exists() else ref}"


class PlanPreview(BaseModel):
    """A dry run: which nodes would run and why, before anything runs (``abacus plan``, the editor's
    "what will run"). The server cannot see a worker's memory: a node whose component keeps its
    result in memory only is listed to run (``not_stored``) though the worker may still hold it."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    targets: list[str]
    mode: Literal["node", "to", "all"]
    order: list[str] = Field(description="the nodes the targets need, in execution order")
    run: list[str] = Field(description="the nodes that would run, in order")
    cached: list[str] = Field(description="the nodes whose results would come from the cache")
    why: dict[str, NodeWhy] = Field(description="node id -> why it would run or come from the cache")


def preview_of(prepared: Any) -> PlanPreview:
    """The dry run of a prepared run (``RunService.prepare``)."""
    why = {nid: item for nid, item in prepared.why.items() if item.runs or item.needed or item.origin is not None}
    return PlanPreview(targets=list(prepared.targets), mode=prepared.mode, order=list(prepared.order),
                       run=[n for n in prepared.order if n in why and why[n].runs],
                       cached=[n for n in prepared.order if n in why and not why[n].runs], why=why)


def _value(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def when_text(ts: float | None) -> str:
    """When, as the command line and the API's messages say it: ``2026-11-30 16:20``, local time."""
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "?"


def change_text(change: Any) -> str:
    """One change, in English (the command line's words; the editor words the codes itself)."""
    match change.what:
        case "param":
            owner = f"{change.node}." if change.node else ""
            return f"{owner}{change.param} {_value(change.old)} -> {_value(change.new)}"
        case "upstream":
            return f"upstream {change.node or change.port} changed"
        case "input":
            return f"input {change.port} reconnected" + (f" (to {change.node})" if change.node else "")
        case "data":
            return "new or changed data files"
        case "version":
            return f"component version {_value(change.old)} -> {_value(change.new)}"
        case _:
            return f"another component ({_value(change.old)} -> {_value(change.new)})"


def why_text(item: NodeWhy) -> str:
    """A node's verdict in one line of English: ``cached (run R, when)`` or ``ran: the reason``."""
    verb = "runs" if item.runs else "cached"
    if not item.runs:
        where = f" (run {item.origin.run_id}, {when_text(item.origin.ts)})" if item.origin and item.origin.run_id else ""
        return f"cached{where}" + ("" if item.needed else ", not needed")
    words = {"new": "new (never ran here)", "forced": "forced (run this node)",
             "not_stored": "kept in memory only: from the worker's memory if it still holds it, else made again",
             "missing": "its stored result is gone: made again", "resumed": "resumed from its checkpoint",
             "evicted": f"its stored result was removed {when_text(item.evicted)} to keep the cache within its budget: "
                        "made again",
             "changed": "its cache key changed"}
    text = words.get(item.reason, item.reason)
    if item.reason == "changed" and item.changes:
        text = "; ".join(change_text(c) for c in item.changes)
    return f"{verb}: {text}"


def index_event(store: Any, scope: str, event: Any) -> None:
    """Index a run's node.finished / node.cached (the command line's runs; the server's dispatcher
    does the same for the studio's)."""
    index = index_of(store)
    if index is not None:
        try:
            index.record(scope, event)
        except OSError:
            pass   # the index only explains: a full disk here never fails a run


def print_why(summary: Any) -> None:
    """The run summary's "why it ran" lines on stderr: every node that ran, and each that came from
    the cache with the run that made it."""
    import sys

    for nid, item in summary.why.items():
        state = summary.nodes.get(nid)
        if item.runs and (state is None or state.state not in ("done", "failed", "cancelled")):
            continue   # did not get to run
        print(f"  {nid}: {why_text(item).replace('runs:', 'ran:', 1)}", file=sys.stderr)

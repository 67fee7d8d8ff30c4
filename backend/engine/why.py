"""Why a node ran or came from the cache: its key's ingredients compared with an earlier result's.

A cache key hashes a node's component id and version, its params, the keys of its inputs and
a fingerprint of the data it reads (``plan.key_ingredients``). The result index keeps those
ingredients by key, and for each node of a project (a graph, on the command line) the result it
last had: when a node has to run, the difference between that earlier result's ingredients and
the current ones says why (a param old -> new, an upstream node that changed, new or changed data,
another component version); with no earlier result the node is new. A node whose current key has
a result says from which run and when it came. Pure Python: the server, the CLI and the worker
use it.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

ALWAYS_SENT = ConfigDict(json_schema_serialization_defaults_required=True)

Reason = Literal["cached", "new", "changed", "forced", "not_stored", "missing", "evicted", "resumed"]
REASON_DESCRIPTION = (
    "cached: served from the cache (``origin``: the run that made it); new: the node never had a result in this "
    "project; changed: its key's ingredients differ from its earlier result's (``changes``); forced: run as asked "
    "('run this node'); not_stored: its key is unchanged but its component keeps results in memory only and the "
    "worker no longer holds it (cheap to make again); missing: its stored result is gone (removed, or found "
    "corrupt); evicted: its stored result was removed to keep the cache within its budget (``evicted``: when); "
    "resumed: a resumed run continues it from its checkpoint")


class Change(BaseModel):
    """One ingredient of a node's cache key that differs from its earlier result's."""

    model_config = ALWAYS_SENT

    what: Literal["param", "upstream", "input", "data", "version", "component"] = Field(
        description="param: one of its params (``param``: old -> new); upstream: the node feeding ``port`` "
                    "(``node``) has another result; input: ``port`` is connected to another node or port; data: "
                    "the files it reads changed (their fingerprint); version: its component's version; component: "
                    "it is another component")
    param: str | None = Field(None, description="the param (of ``node`` when it is a deferred param of an "
                                                "upstream node that this node reads)")
    node: str | None = Field(None, description="the upstream node, for upstream and deferred params")
    port: str | None = None
    old: JsonValue = None
    new: JsonValue = None


class Origin(BaseModel):
    """A result's story: the run that made it (or last served it) and when."""

    model_config = ALWAYS_SENT

    key: str
    run_id: str | None = None
    ts: float | None = Field(None, description="when, seconds since the epoch")
    project: str | None = Field(None, description="the project (or graph, on the command line) of that run")


class NodeWhy(BaseModel):
    """Whether a node runs or comes from the cache, and why."""

    model_config = ALWAYS_SENT

    node: str
    runs: bool = Field(description="true: the node is executed; false: its result comes from the cache")
    reason: Reason = Field(description=REASON_DESCRIPTION)
    changes: list[Change] = Field(default_factory=list, description="what differs from ``previous``")
    origin: Origin | None = Field(None, description="where the result for the node's current key came from, "
                                                    "when one was made before")
    previous: Origin | None = Field(None, description="the earlier result compared with: the latest one the node "
                                                      "had (made or served from the cache) in this project")
    needed: bool = Field(True, description="false: the run does not need this node's result (a node after it "
                                           "comes from the cache); it is up to date in the cache")
    memory: bool = Field(False, description="its component keeps results in the worker's memory only (not stored): "
                                            "a dry run expects the worker to still hold one made before")
    evicted: float | None = Field(None, description="reason evicted: when the cache's budget removed its result, "
                                                    "seconds since the epoch")


def diff(old: dict[str, Any], new: dict[str, Any], sources: dict[str, tuple[str, str]]) -> list[Change]:
    """The changes between two key ingredients (``plan.key_ingredients``); ``sources``: port ->
    (upstream node, its port) of the current graph, to name the upstream node that changed."""
    out: list[Change] = []
    if old.get("component") != new.get("component"):
        return [Change(what="component", old=old.get("component"), new=new.get("component"))]
    if old.get("version") != new.get("version"):
        out.append(Change(what="version", old=old.get("version"), new=new.get("version")))
    old_params, new_params = old.get("params") or {}, new.get("params") or {}
    for name in sorted(set(old_params) | set(new_params)):
        if old_params.get(name) != new_params.get(name):
            out.append(Change(what="param", param=name, old=old_params.get(name), new=new_params.get(name)))
    old_deferred, new_deferred = old.get("deferred") or {}, new.get("deferred") or {}
    for node in sorted(set(old_deferred) | set(new_deferred)):
        before, after = old_deferred.get(node) or {}, new_deferred.get(node) or {}
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                out.append(Change(what="param", node=node, param=name, old=before.get(name), new=after.get(name)))
    if old.get("external") != new.get("external"):
        out.append(Change(what="data", old=old.get("external"), new=new.get("external")))
    old_inputs, new_inputs = old.get("inputs") or {}, new.get("inputs") or {}
    for port in sorted(set(old_inputs) | set(new_inputs)):
        before, after = old_inputs.get(port), new_inputs.get(port)
        if before == after:
            continue
        src = sources.get(port, (None, None))[0]
        if before is None or after is None or before[1] != after[1]:
            out.append(Change(what="input", port=port, node=src))
        else:
            out.append(Change(what="upstream", port=port, node=src, old=before[0], new=after[0]))
    return out


def explain(order: list[str], keys: dict[str, str], ingredients: dict[str, dict[str, Any]],
            inputs: dict[str, dict[str, tuple[str, str]]], *, execute: list[str], cached: list[str],
            force: set[str], persisted: set[str], origins: dict[str, Origin],
            previous: dict[str, tuple[Origin, dict[str, Any] | None]], resume: bool = False) -> dict[str, NodeWhy]:
    """Every planned node's verdict. ``execute``/``cached``: the split the run makes; ``persisted``:
    nodes whose component stores its results; ``origins``: node -> the run that made its current key; ``previous``: node -> its latest earlier
    result in this project and that result's ingredients (None when they were not kept)."""
    out: dict[str, NodeWhy] = {}
    running, served = set(execute), set(cached)
    for nid in order:
        origin = origins.get(nid)
        before = previous.get(nid)
        prev_origin = before[0] if before else None
        memory = nid not in persisted
        if nid not in running:
            out[nid] = NodeWhy(node=nid, runs=False, reason="cached", origin=origin, previous=prev_origin,
                               needed=nid in served, memory=memory)
            continue
        changes: list[Change] = []
        if nid in force:
            reason: Reason = "forced"
        elif resume and nid in persisted:   # a trainer continues from its checkpoint, if it left one
            reason = "resumed"
        elif before is None:
            reason = "new"
        elif before[0].key != keys[nid]:
            reason = "changed"
            if before[1] is not None:
                changes = diff(before[1], ingredients.get(nid, {}), inputs.get(nid, {}))
        else:   # the same key as its earlier result, which is no longer in the cache
            reason = "missing" if nid in persisted else "not_stored"
        out[nid] = NodeWhy(node=nid, runs=True, reason=reason, changes=changes, origin=origin,
                           previous=prev_origin, memory=memory)
    return out


def settle(why: dict[str, NodeWhy], execute: list[str], cached: list[str], covered: list[str]) -> dict[str, NodeWhy]:
    """The server's verdicts made true to the split the worker made: a node the server expected to
    run that the worker served from memory is cached; one it expected cached that turned out corrupt
    runs (``missing``); ``covered``: nodes the run did not need whose results are in the cache."""
    out: dict[str, NodeWhy] = {}
    running, served, up = set(execute), set(cached), set(covered)
    for nid, item in why.items():
        if nid in served or nid in up:
            item = item.model_copy(update={"runs": False, "reason": "cached", "changes": [], "needed": nid in served})
        elif nid in running and not item.runs:   # expected in memory, or stored, and it is not (any more)
            item = item.model_copy(update={"runs": True, "reason": "not_stored" if item.memory else "missing",
                                           "needed": True})
        elif nid not in running and item.runs:   # not needed and not in the cache: it does not run now
            continue
        elif not item.runs and not item.needed:
            continue
        out[nid] = item
    return out

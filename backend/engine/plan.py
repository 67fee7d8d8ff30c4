"""Planning: which nodes a run needs, and the cache key of each.

A key hashes the component id and version, its canonical params, the keys of its inputs
(so it covers every ancestor) and a fingerprint of external data. Params marked deferred
(read only by a later stage, such as the layers to unfreeze for fine-tuning) are left out
of their own node's key and counted in the keys of the nodes that read them instead, so
changing them does not invalidate the first training.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from .component import Registry
from .graph import Graph
from .validate import Issue, Validation

Mode = Literal["node", "to", "all"]


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def _hash(obj: Any) -> str:
    return hashlib.sha256(canonical(obj).encode()).hexdigest()[:32]


@dataclass
class Plan:
    targets: list[str]
    mode: Mode
    order: list[str]                     # the nodes the targets need, in execution order
    keys: dict[str, str]                 # node id -> cache key
    force: set[str] = field(default_factory=set)  # nodes to execute even when cached
    ingredients: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id -> what its key hashes
    why: dict[str, Any] = field(default_factory=dict)  # node id -> why.NodeWhy, as the server expects it


def ancestors(validation: Validation, targets: list[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(targets)
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        stack.extend(src for src, _ in validation.inputs.get(nid, {}).values())
    return seen


def compute_keys(graph: Graph, validation: Validation, registry: Registry,
                 needed: set[str] | None = None) -> dict[str, str]:
    return key_ingredients(graph, validation, registry, needed)[0]


def key_ingredients(graph: Graph, validation: Validation, registry: Registry,
                    needed: set[str] | None = None) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """(node id -> cache key, node id -> what the key hashes): the ingredients are kept with the
    result index so that a later run can say which of them changed (``why.py``)."""
    nodes = {n.id: n for n in graph.nodes}
    keys: dict[str, str] = {}
    materials: dict[str, dict[str, Any]] = {}
    deferred_of: dict[str, dict[str, Any]] = {}   # node id -> its deferred params
    for nid in validation.order:
        if needed is not None and nid not in needed:
            continue
        node = nodes[nid]
        comp = registry.get(node.type)
        params = validation.params[nid]
        dumped = params.model_dump(mode="json")
        deferred_names = comp.deferred_params()
        own = {k: v for k, v in dumped.items() if k not in deferred_names}
        if deferred_names:
            deferred_of[nid] = {k: dumped[k] for k in sorted(deferred_names)}
        inputs = {port: [keys[src], src_port]
                  for port, (src, src_port) in sorted(validation.inputs.get(nid, {}).items())}
        material = {"component": comp.id, "version": comp.version, "params": own, "inputs": inputs,
                    "external": comp.fingerprint(params)}
        if comp.reads_deferred:
            ups = ancestors(validation, [nid])
            material["deferred"] = {a: deferred_of[a] for a in sorted(ups) if a in deferred_of}
        keys[nid] = _hash(material)
        materials[nid] = material
    return keys, materials


def make_plan(graph: Graph, validation: Validation, registry: Registry,
              targets: list[str], mode: Mode = "to") -> Plan | list[Issue]:
    """The nodes to run for ``targets``; ``mode='all'`` runs every sink of the graph."""
    if mode == "all" and not targets:
        has_succ = {src for ports in validation.inputs.values() for src, _ in ports.values()}
        targets = [nid for nid in validation.order if nid not in has_succ]
    ids = {n.id for n in graph.nodes}
    unknown = [t for t in targets if t not in ids]
    if unknown:
        return [Issue(code="unknown_target", node=t, message=f"no node with id '{t}' to run") for t in unknown]
    needed = ancestors(validation, targets)
    keys, ingredients = key_ingredients(graph, validation, registry, needed)
    order = [nid for nid in validation.order if nid in needed]
    force = set(targets) if mode == "node" else set()
    return Plan(targets=list(targets), mode=mode, order=order, keys=keys, force=force, ingredients=ingredients)


def split_cached(plan: Plan, inputs: dict[str, dict[str, tuple[str, str]]],
                 is_cached: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """The plan's nodes to execute and the nodes served from the cache, in execution order.

    Walking back from the targets, a cached node that is not forced is served as it is and
    its own inputs are not needed; ``is_cached`` takes a node id.
    """
    need = set(plan.targets)
    execute: set[str] = set()
    cached: set[str] = set()
    for nid in reversed(plan.order):
        if nid not in need:
            continue
        if nid not in plan.force and is_cached(nid):
            cached.add(nid)
            continue
        execute.add(nid)
        need.update(src for src, _ in inputs.get(nid, {}).values())
    return [n for n in plan.order if n in execute], [n for n in plan.order if n in cached]

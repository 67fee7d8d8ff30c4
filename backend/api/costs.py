"""What a graph will cost, for the validation the editor asks for on each edit: the engine's
figures (``backend.engine.cost``) with what only the studio knows: the images per split of
stored datasets, the worker's measured speed and its GPU memory."""
from __future__ import annotations

import logging
from typing import Any

from backend.engine import Graph, Validation
from backend.engine.cost import NodeCost, graph_costs

from .deps import Services

log = logging.getLogger("abacus.api")


def stored_sizes(services: Services, v: Validation, keys: dict[str, str], trainer: str) -> dict[str, int] | None:
    """Images per split of the trainer's images, from the stored result of the node that
    formats them or, failing that, of the dataset before it; None while neither is stored."""
    node = (v.inputs.get(trainer, {}).get("images") or (None,))[0]
    for _ in range(2):
        if node is None:
            return None
        key = keys.get(node)
        summary = services.results.summary(key) if key and services.results.has(key) else None
        for value in (summary or {}).values():
            sizes = getattr(value, "sizes", None)
            if sizes:
                return dict(sizes)
        node = (v.inputs.get(node, {}).get("dataset") or (None,))[0]
    return None


def gpu_memory(health: dict[str, Any]) -> int | None:
    """The GPU memory a worker reports in its health (``gpu_memory_bytes``), if any."""
    value = health.get("gpu_memory_bytes")
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def validation_costs(services: Services, graph: Graph, v: Validation, keys: dict[str, str]) -> dict[str, NodeCost]:
    """Every model node's costs; an error here costs the figures, never the validation."""
    try:
        settings = services.settings
        speed = services.speeds.figure(services.runs, services.events, services.registry,
                                       settings.executor, settings.device)
        return graph_costs(graph, v, services.registry, sizes=lambda nid: stored_sizes(services, v, keys, nid),
                           speed=speed, gpu_memory=None if settings.device == "cpu"
                           else gpu_memory(services.dispatcher.worker_status()))
    except Exception:
        log.exception("graph_costs() failed")
        return {}

"""Checking a graph on the server: data-root paths, then the engine's validation."""
from __future__ import annotations

import logging
from typing import Any

from backend.engine import Graph, Validation, compute_keys
from backend.runs import RunRejected, issues_json  # noqa: F401  (the routes' too)

from .deps import Services
from .errors import ApiError

log = logging.getLogger("abacus.api")


def check_graph(services: Services, graph: Graph) -> tuple[Graph, Validation, list[dict[str, Any]]]:
    """(graph with absolute data paths, the engine's validation, path issues)."""
    try:
        return services.service.check(graph)
    except Exception as err:  # an engine bug must not become a 500: report it on the graph
        log.exception("validate() failed")
        raise ApiError(422, "validation_failed", f"the graph could not be validated: {type(err).__name__}: {err}")


def rejected_error(err: RunRejected) -> ApiError:
    return issue_error(err.issues, err.prefix)


def keys_and_cached(services: Services, graph: Graph, validation: Validation) -> tuple[dict[str, str], dict[str, bool]]:
    try:
        keys = compute_keys(graph, validation, services.registry)
    except Exception:
        log.exception("compute_keys() failed")
        return {}, {}
    return keys, {node: services.results.has(key) for node, key in keys.items()}


def issue_error(issues: list[dict[str, Any]], message_prefix: str = "") -> ApiError:
    first = issues[0]
    return ApiError(422, first["code"], message_prefix + first["message"], node=first.get("node"),
                    port=first.get("port"), field=first.get("param"), issues=issues)

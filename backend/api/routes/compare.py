"""Comparing runs: a project's run table, and what differs between two runs' graphs."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.engine.graph_diff import VersionChange, diff
from backend.store.run_table import RunRow, run_table

from ..deps import ServicesDep
from ..errors import COMMON_ERRORS
from .projects import ProjectId, require_project
from .runs import RunId, require_run

router = APIRouter(tags=["runs"], responses=COMMON_ERRORS)

# Where nodes sit and how they are grouped changes no result: a comparison leaves it out.
NOT_RESULTS = {"layout", "group_added", "group_removed", "group_renamed", "node_regrouped", "node_renamed"}


@router.get("/projects/{project_id}/runs", response_model=list[RunRow])
def project_runs(project_id: ProjectId, services: ServicesDep,
                 limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[RunRow]:
    """The project's runs, newest first: status, graph version, duration, and each trainer's best
    epoch with its metrics and each evaluation's accuracy (the run table the editor compares by)."""
    require_project(services, project_id)
    return run_table(services.db, project_id, limit)


@router.get("/runs/{run_id}/changes", response_model=list[VersionChange])
def run_changes(run_id: RunId, services: ServicesDep,
                against: Annotated[str, Query(pattern=r"^[0-9a-f]{1,32}$", description="the baseline run")]
                ) -> list[VersionChange]:
    """What differs in this run's graph from the baseline run's ``against``: parameters (a missing
    one read as its default), nodes and wires added or removed; layout and groups left out."""
    run = require_run(services, run_id)
    baseline = require_run(services, against)
    changes = diff(baseline.graph, run.graph, defaults=services.projects.defaults)
    return [c for c in changes if c.kind not in NOT_RESULTS]

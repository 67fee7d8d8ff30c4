"""A dry run: which nodes a run would execute and why, before anything runs."""
from __future__ import annotations

from fastapi import APIRouter

from backend.runs import RunRejected
from backend.runs.why import PlanPreview, preview_of, project_scope

from ..deps import ServicesDep
from ..errors import COMMON_ERRORS
from ..graphs import rejected_error
from ..schemas import RunCreate
from .projects import ProjectId, graph_json, require_project

router = APIRouter(tags=["runs"], responses=COMMON_ERRORS)


@router.post("/projects/{project_id}/plan", response_model=PlanPreview)
def plan_run(project_id: ProjectId, body: RunCreate, services: ServicesDep) -> PlanPreview:
    """What a run of ``targets`` would do, node by node: run (new, a param or upstream node changed,
    data changed, another component version, forced) or come from the cache (made by which run, when).
    Nothing is queued. A graph with issues: 422, as for a run."""
    require_project(services, project_id)
    try:
        latest = services.projects.latest(project_id)
        graph, _ = services.service.graph_for_project(latest, body.graph, graph_json)
        prepared = services.service.prepare(graph, list(body.targets), body.mode, scope=project_scope(project_id))
    except RunRejected as err:
        raise rejected_error(err) from None
    return preview_of(prepared)

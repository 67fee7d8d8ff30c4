"""Projects and graph versions."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from backend.engine import Graph
from backend.engine.templates import find_template, list_templates
from backend.store.models import ProjectPublic, VersionPublic, VersionWithGraph

from ..deps import ServicesDep
from ..errors import COMMON_ERRORS, ApiError, not_found
from ..schemas import MAX_DB_INT, GraphIn, ProjectCreate, ProjectPatch, VersionNumber

router = APIRouter(tags=["projects"], responses=COMMON_ERRORS)
ProjectId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
VersionId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]


def graph_json(graph: Graph) -> dict[str, Any]:
    return graph.model_dump(mode="json")


def project_out(project, graph: dict[str, Any] | None = None) -> ProjectPublic:
    return ProjectPublic(**project.model_dump(), graph=graph)


def require_project(services, project_id: int):
    project = services.projects.get(project_id)
    if project is None:
        raise not_found("project", project_id, field="project_id")
    return project


@router.post("/projects", response_model=ProjectPublic, status_code=201, response_model_exclude_none=False)
def create_project(body: ProjectCreate, services: ServicesDep) -> ProjectPublic:
    """A new project from a graph, a template, or empty; its graph is saved as version 1."""
    if body.graph is not None and body.template is not None:
        raise ApiError(422, "ambiguous_source", "give either a template or a graph, not both", field="template")
    if body.template is not None:
        template = next((t for t in list_templates() if t["id"] == body.template), None) \
            or find_template(body.template)
        if template is None:
            raise ApiError(422, "unknown_template", f"no template named '{body.template}'", field="template")
        graph = graph_json(Graph.model_validate(template["graph"]))
    elif body.graph is not None:
        graph = graph_json(body.graph)
    else:
        graph = graph_json(Graph())
    project, _ = services.projects.create(body.name, graph)
    return project_out(project, graph)


@router.get("/projects", response_model=list[ProjectPublic], response_model_exclude_none=True)
def list_projects(services: ServicesDep) -> list[ProjectPublic]:
    return [project_out(p) for p in services.projects.list()]


@router.get("/projects/{project_id}", response_model=ProjectPublic)
def get_project(project_id: ProjectId, services: ServicesDep) -> ProjectPublic:
    project = require_project(services, project_id)
    latest = services.projects.latest(project_id)
    return project_out(project, latest.graph if latest else graph_json(Graph()))


@router.patch("/projects/{project_id}", response_model=ProjectPublic, response_model_exclude_none=True)
def rename_project(project_id: ProjectId, body: ProjectPatch, services: ServicesDep) -> ProjectPublic:
    project = services.projects.rename(project_id, body.name)
    if project is None:
        raise not_found("project", project_id, field="project_id")
    return project_out(project)


@router.delete("/projects/{project_id}", status_code=204, response_class=Response)
def delete_project(project_id: ProjectId, services: ServicesDep) -> Response:
    require_project(services, project_id)
    for run in services.runs.list(project_id, limit=1_000_000):
        if run.status in ("queued", "running"):
            services.runs.cancel_queued(run.id)
            services.dispatcher.cancel(run.id)
    if not services.projects.delete(project_id):
        raise not_found("project", project_id, field="project_id")
    return Response(status_code=204)


@router.put("/projects/{project_id}/graph", response_model=VersionNumber)
def save_graph(project_id: ProjectId, body: GraphIn, services: ServicesDep) -> VersionNumber:
    """Every save is kept as a new numbered version, except the editor's rapid ones: a save naming its
    ``client`` replaces the latest version when the same client saved it less than 60 s ago (and first
    less than 10 min ago) and no run used it, and one equal to the latest version stores nothing."""
    version = services.projects.save_graph(project_id, graph_json(body.graph), client=body.client)
    if version is None:
        raise not_found("project", project_id, field="project_id")
    return VersionNumber(version=version.version)


@router.get("/projects/{project_id}/versions", response_model=list[VersionPublic])
def list_versions(project_id: ProjectId, services: ServicesDep) -> list[VersionPublic]:
    """Newest first, each with what changed from the version before (typed items the editor words)."""
    require_project(services, project_id)
    return services.projects.history(project_id)


@router.get("/projects/{project_id}/versions/{version}", response_model=VersionWithGraph)
def get_version(project_id: ProjectId, version: VersionId, services: ServicesDep) -> VersionWithGraph:
    require_project(services, project_id)
    row = services.projects.version(project_id, version)
    if row is None:
        raise not_found("version", version, field="version")
    return VersionWithGraph.model_validate(row, from_attributes=True)


@router.post("/projects/{project_id}/versions/{version}/restore", response_model=VersionNumber)
def restore_version(project_id: ProjectId, version: VersionId, services: ServicesDep) -> VersionNumber:
    """Save that version's graph as the new latest version (its changes begin with ``restored``)."""
    require_project(services, project_id)
    row = services.projects.version(project_id, version)
    if row is None:
        raise not_found("version", version, field="version")
    saved = services.projects.save_graph(project_id, row.graph, restored_from=version)
    if saved is None:
        raise not_found("project", project_id, field="project_id")
    return VersionNumber(version=saved.version)

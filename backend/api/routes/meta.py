"""Health, components, templates and validation."""
from __future__ import annotations

from fastapi import APIRouter

from backend.engine import COMPATIBLE, PORT_TYPES
from backend.engine.graph_document import GraphDocument
from backend.engine.templates import list_templates

from ..costs import validation_costs
from ..data_checks import data_warnings
from ..deps import ServicesDep
from ..errors import COMMON_ERRORS, ErrorBody, not_found
from ..graphs import check_graph, issues_json, keys_and_cached
from ..schemas import (
    ComponentInfo, ComponentsOut, Health, TemplateOut, TemplateSummary, ValidateIn, ValidationOut,
    WeightsNeeded,
)

router = APIRouter(tags=["meta"], responses=COMMON_ERRORS)


@router.get("/health", response_model=Health)
def health(services: ServicesDep) -> Health:
    from ..app import VERSION

    return Health(ok=True, version=VERSION, worker=services.dispatcher.worker_status())


@router.get("/components", response_model=ComponentsOut)
def list_components(services: ServicesDep) -> ComponentsOut:
    import components

    return ComponentsOut(components=[ComponentInfo.model_validate(c.describe()) for c in services.registry.all()],
                         categories=components.CATEGORIES, port_types=PORT_TYPES,
                         compatible={k: list(v) for k, v in COMPATIBLE.items()})


def _weights(services, graph: dict) -> list[WeightsNeeded]:
    """The weight files a template's graph reads: present, or a download of ``size`` bytes (a stat each)."""
    from components.backbones.weights import needed_weights, status

    return [WeightsNeeded(name=e.name, file=e.file, size=e.size, present=status(e)["present"])
            for e in needed_weights(graph, services.registry, services.settings.weights_catalog)]


@router.get("/templates", response_model=list[TemplateSummary])
def templates(services: ServicesDep) -> list[TemplateSummary]:
    """The templates, each with the weight files it reads (those not present need a download)."""
    return [TemplateSummary(id=t["id"], name=t["name"], description=t["description"],
                            weights=_weights(services, t["graph"])) for t in list_templates()]


@router.get("/templates/{template_id}", response_model=TemplateOut, responses={404: {"model": ErrorBody}})
def template(template_id: str, services: ServicesDep) -> TemplateOut:
    for t in list_templates():
        if t["id"] == template_id:
            return TemplateOut(id=t["id"], name=t["name"], description=t["description"],
                               weights=_weights(services, t["graph"]), graph=GraphDocument.model_validate(t["graph"]))
    raise not_found("template", template_id, field="template_id")


@router.post("/validate", response_model=ValidationOut)
def validate_graph(body: ValidateIn, services: ServicesDep) -> ValidationOut:
    """The engine's issues and inferred shapes; ``keys`` and ``cached`` only when there are no issues."""
    resolved, validation, path_issues = check_graph(services, body.graph)
    issues = issues_json(validation, path_issues)
    keys, cached = ({}, {}) if issues else keys_and_cached(services, resolved, validation)
    warnings = data_warnings(services.results, keys, cached, {n.id: n.type for n in resolved.nodes})
    costs = validation_costs(services, resolved, validation, keys)
    return ValidationOut.model_validate({"ok": not issues, "issues": issues, "specs": validation.specs_json(),
                                         "keys": keys, "cached": cached, "warnings": warnings, "costs": costs})

"""Request and response models of the HTTP API (their JSON schema is the OpenAPI document)."""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from backend.engine import Graph

MAX_DB_INT = 2**31 - 1  # PostgreSQL integer


def _check_plain(value: Any, path: str = "") -> None:
    """Refuse what JSON parsers accept but databases and strict encoders do not."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path or 'value'}: numbers must be finite")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63 - 1:
        raise ValueError(f"{path or 'value'}: integer out of range")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path or 'value'}: text must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{path or 'value'}: text is not valid Unicode") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k, path)
            _check_plain(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{path}.{i}" if path else str(i))


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _plain_json(cls, data: Any) -> Any:
        _check_plain(data)
        return data


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:  # SQLite returns naive datetimes; they are stored in UTC
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.isoformat()


class _Out(BaseModel):
    @field_serializer("*", when_used="json", check_fields=False)
    def _times(self, value: Any) -> Any:
        return iso(value) if isinstance(value, datetime) else value


# -- meta ---------------------------------------------------------------------------------
class WorkerNode(BaseModel):
    node_id: str
    address: str | None = None
    resources: dict[str, float] = Field(default_factory=dict)


class WorkerStatus(BaseModel):
    kind: str = Field(description="local (the embedded worker process) or ray (a Ray cluster)")
    alive: bool
    pid: int | None = Field(None, description="the worker process (local) or the Ray driver process (ray)")
    slots: int = Field(0, description="how many runs it executes at once now")
    running: int = Field(0, description="runs executing now")
    address: str | None = Field(None, description="the Ray cluster's address")
    nodes: list[WorkerNode] = Field(default_factory=list, description="the cluster's live nodes when it connected")
    error: str | None = Field(None, description="why it is not available")


class Health(BaseModel):
    ok: bool
    version: str
    worker: WorkerStatus


class ComponentsOut(BaseModel):
    components: list[dict[str, Any]]
    categories: dict[str, dict[str, str]]
    port_types: dict[str, dict[str, str]]
    compatible: dict[str, list[str]]


class TemplateSummary(BaseModel):
    id: str
    name: dict[str, str]
    description: dict[str, str] | str


class TemplateOut(TemplateSummary):
    graph: dict[str, Any]


class ValidateIn(Body):
    graph: Graph


class ValidationOut(BaseModel):
    ok: bool
    issues: list[dict[str, Any]]
    specs: dict[str, dict[str, Any]]
    keys: dict[str, str]
    cached: dict[str, bool]


# -- projects -----------------------------------------------------------------------------
Name = Field(min_length=1, max_length=200)


class ProjectCreate(Body):
    name: str = Name
    template: str | None = Field(None, max_length=200, description="template id to start from")
    graph: Graph | None = None


class ProjectPatch(Body):
    name: str = Name


class ProjectOut(_Out):
    id: int
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
    graph: dict[str, Any] | None = None


class GraphIn(Body):
    graph: Graph


class VersionNumber(BaseModel):
    version: int


class VersionSummary(_Out):
    version: int
    created_at: datetime


class VersionOut(VersionSummary):
    graph: dict[str, Any]


# -- runs ---------------------------------------------------------------------------------
RunStatus = Literal["queued", "running", "finished", "failed", "cancelled", "interrupted"]


class RunCreate(Body):
    targets: list[str] = Field(default_factory=list, max_length=1000)
    mode: Literal["node", "to", "all"] = "to"
    graph: Graph | None = Field(None, description="the graph to run; null runs the latest saved version")


class RunOut(_Out):
    id: str
    project_id: int
    status: RunStatus
    targets: list[str]
    mode: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: dict[str, Any] | None
    graph_version: int | None


class ArtifactOut(BaseModel):
    node: str
    kind: str
    path: str
    url: str


class Prediction(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    class_: str = Field(alias="class")
    probability: float
    probabilities: dict[str, float]

"""Request and response models of the HTTP API (their JSON schema is the OpenAPI document)."""
from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from backend.engine import Graph
from backend.engine.cost import NodeCost
from backend.engine.events import ALWAYS_SENT
from backend.engine.graph_document import GraphDocument
from backend.store.models import ProjectPublic, RunMode

from .data_checks import DataWarning

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
    gpu_memory_bytes: int | None = Field(None, description="the embedded worker's first GPU's memory, once it has "
                                                           "imported torch (the editor warns of a graph that cannot fit)")


class Health(BaseModel):
    ok: bool
    version: str
    worker: WorkerStatus


class PortInfo(BaseModel):
    """One input or output port of a component (``Port.to_json()``)."""

    model_config = ALWAYS_SENT

    name: str
    type: str = Field(description="a key of ComponentsOut.port_types")
    label: dict[str, str] = Field(description="the port's name in en and zh")
    optional: bool = False


class ComponentInfo(BaseModel):
    """One component of the catalog (``Component.describe()``)."""

    model_config = ALWAYS_SENT

    id: str = Field(description="e.g. layers.Dense")
    version: int
    name: dict[str, str] = Field(description="en and zh")
    description: dict[str, str] = Field(description="en and zh")
    category: str = Field(description="a key of ComponentsOut.categories")
    inputs: list[PortInfo]
    outputs: list[PortInfo]
    params_schema: dict[str, JsonValue] = Field(description="the JSON schema of its parameters: the editor's form")
    defaults: dict[str, JsonValue] = Field(description="every parameter's default value")


class ComponentsOut(BaseModel):
    components: list[ComponentInfo]
    categories: dict[str, dict[str, str]]
    port_types: dict[str, dict[str, str]]
    compatible: dict[str, list[str]]


class WeightsNeeded(BaseModel):
    """A pretrained weight file a graph reads (from the weights catalog)."""

    name: str = Field(description="Its catalog name: GET /api/weights, POST /api/weights/{name}/fetch")
    file: str
    size: int = Field(description="Bytes to download when it is missing")
    present: bool


class TemplateSummary(BaseModel):
    id: str
    name: dict[str, str]
    description: dict[str, str] | str
    weights: list[WeightsNeeded] = Field(
        default_factory=list, description="The weight files the template reads; those not present need a download")


class WeightsDownload(BaseModel):
    """This server's download of a weight file: idle (none since it started), running, done or failed."""

    state: Literal["idle", "running", "done", "failed"] = "idle"
    done_bytes: int = 0
    total_bytes: int = 0
    phase: Literal["download", "verify"] | None = None
    error: dict[str, Any] | None = Field(None, description="code and message of a failed download")


class WeightsOut(BaseModel):
    name: str
    title: dict[str, str]
    file: str
    url: str = Field(description="Where it is downloaded from (the mirror's URL when one is set)")
    size: int
    sha256: str | None
    sha256_prefix: str | None
    path: str = Field(description="Where the components read it (the torch hub cache)")
    present: bool
    partial_bytes: int = Field(description="Bytes of an interrupted download kept to resume from")
    components: list[str] = Field(description="Ids of the components that read it (their ImageNet weights)")
    download: WeightsDownload


class TemplateOut(TemplateSummary):
    graph: GraphDocument


class ValidateIn(Body):
    graph: Graph


class Issue(BaseModel):
    """One problem with a graph: the engine's validation issues (``backend.engine.validate``) and
    the server's own (a data path outside the data roots)."""

    code: str = Field(description="stable, e.g. unknown_component, incompatible_types, path_outside_data_roots")
    message: str
    node: str | None = None
    port: str | None = None
    param: str | None = None
    edge: str | None = None
    params: dict[str, JsonValue] = Field(default_factory=dict, description=(
        "what the editor words the issue with: for invalid_param, pydantic's error `type` "
        "(greater_than_equal, int_parsing, missing, ...) and its context (ge, lt, expected, ...)"))


def _absent(value: Any) -> bool:
    return value is None


class PortSpec(BaseModel):
    """What an output port will carry, inferred at edit time (``Spec.to_json()``): the keys it
    does not know are left out."""

    model_config = ALWAYS_SENT

    type: str = Field(description="a key of ComponentsOut.port_types")
    shape: list[int] | None = Field(None, exclude_if=_absent, description="HxWxC for images, (features,) for vectors")
    label: str | None = Field(None, exclude_if=_absent, description="the shape as a person reads it, e.g. 150x150x3")
    info: dict[str, Any] | None = Field(None, exclude_if=_absent,
                                        description="facts downstream nodes check, e.g. class names")


class ValidationOut(BaseModel):
    ok: bool
    issues: list[Issue]
    specs: dict[str, dict[str, PortSpec]] = Field(description="node id -> output port -> spec")
    keys: dict[str, str]
    cached: dict[str, bool]
    warnings: list[DataWarning] = Field(default_factory=list, description=(
        "what the stored data checks of cached dataset nodes found: never makes the graph invalid"))
    costs: dict[str, NodeCost] = Field(default_factory=dict, description=(
        "node id -> what it will cost: a model node's weights, FLOPs and activation memory; a trainer's "
        "feature cache, time per epoch (estimated) and GPU memory (never makes the graph invalid)"))


# -- projects -----------------------------------------------------------------------------
Name = Field(min_length=1, max_length=200)


class ProjectCreate(Body):
    name: str = Name
    template: str | None = Field(None, max_length=200, description="template id to start from")
    graph: Graph | None = None


class ProjectPatch(Body):
    name: str = Name


class GraphIn(Body):
    graph: Graph
    client: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description=(
        "the editor (one browser tab) saving: its rapid saves replace the latest version it saved instead of "
        "adding one (within 60 s, unless a run used that version); without it every save is a new version"))


class ProjectFromModel(ProjectPublic):
    """A project made from a model file: the graph that made the model, and whether the studio
    holds the model as the stored result of the node that made it."""

    node: str = Field(description="the node that made the model")
    model_result: Literal["stored", "imported", "absent"] = Field(description=(
        "stored: this studio already holds that node's result (the same graph ran here on the same data); "
        "imported: it did not, and the uploaded model became that result (its cache key here is the one "
        "the file records: same components, parameters and data); absent: the key differs here (other "
        "data or components, or the graph has issues), so the node trains again when run"))


class VersionNumber(BaseModel):
    version: int


# -- runs ---------------------------------------------------------------------------------
class RunCreate(Body):
    targets: list[str] = Field(default_factory=list, max_length=1000)
    mode: RunMode = "to"
    graph: Graph | None = Field(None, description="the graph to run; null runs the latest saved version")


class Prediction(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    class_: str = Field(alias="class")
    probability: float
    probabilities: dict[str, float]


class DatasetClassOut(BaseModel):
    name: str = Field(description="The class: its folder's name")
    images: int = Field(description="Image files in its folder (by name; unreadable ones are skipped at run time)")


class DatasetOut(BaseModel):
    """A dataset uploaded through the studio (``<data root>/uploads/<name>``)."""

    name: str
    path: str = Field(description="The value for an image-folder dataset's root, e.g. uploads/flowers")
    classes: list[DatasetClassOut] = Field(description="In label order (sorted names, as Keras reads them)")
    images: int

"""Events a run emits, as typed models. Each carries run_id, seq and ts on the wire.

These models are the one shape of an event everywhere: the worker emits them, the
dispatcher and the event log pass them, the API and websockets send their JSON, the CLI
and the reducer (``reduce.py``) read them, and the editor's types are generated from the
OpenAPI schema that publishes them (``Event``: a union discriminated by ``type``).
"""
from __future__ import annotations

import time
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from .summaries import CacheNote, ModelSummary, NodeSummary
from .why import NodeWhy


# A field with a default is still always sent: the published schema marks it required, so the
# editor's generated types need no optional checks for what is always there.
ALWAYS_SENT = ConfigDict(json_schema_serialization_defaults_required=True)


class _Event(BaseModel):
    model_config = ALWAYS_SENT

    run_id: str = ""
    seq: int = 0
    ts: float = Field(default_factory=time.time)


class WorkerInfo(BaseModel):
    """Who executed a run: the embedded worker, a Ray actor, or the server from its store."""

    model_config = ALWAYS_SENT

    kind: Literal["local", "ray", "server"]
    pid: int | None = None
    node_id: str | None = Field(None, description="the Ray node")
    node_ip: str | None = None
    gpus: list[str] = Field(default_factory=list, description="the GPUs a Ray actor was given")
    note: str | None = None


class RunQueued(_Event):
    type: Literal["run.queued"] = "run.queued"
    targets: list[str] = Field(default_factory=list)
    resumed_from: str | None = Field(None, description="the run this one resumes (it continues from that run's "
                                                       "checkpoints)")


class RunStarted(_Event):
    type: Literal["run.started"] = "run.started"
    plan: list[str] = Field(default_factory=list, description="node ids in execution order")
    cached: list[str] = Field(default_factory=list, description="node ids served from the cache")
    worker: WorkerInfo | None = Field(None, description="who took the run")
    why: dict[str, NodeWhy] = Field(default_factory=dict, description="node id -> why it runs or comes from the "
                                                                      "cache (why.py); nodes the run did not need "
                                                                      "that are up to date have needed: false")


class RunFinished(_Event):
    type: Literal["run.finished"] = "run.finished"
    seconds: float = 0.0


# A message a person reads travels as a stable ``code`` with the ``params`` its sentence needs,
# next to the English ``message`` (the command line's words, and the fallback for a code the
# editor does not know): the editor renders the code in the person's language.
PARAMS_DESCRIPTION = "the values the sentence for ``code`` names (counts, splits, epochs, file paths, ...)"


class RunFailed(_Event):
    type: Literal["run.failed"] = "run.failed"
    code: str
    message: str
    node: str | None = None
    params: dict[str, JsonValue] = Field(default_factory=dict, description=PARAMS_DESCRIPTION)
    debug: str | None = None


class RunCancelled(_Event):
    type: Literal["run.cancelled"] = "run.cancelled"
    node: str | None = None
    message: str = ""


class NodeStarted(_Event):
    type: Literal["node.started"] = "node.started"
    node: str


class NodeCached(_Event):
    type: Literal["node.cached"] = "node.cached"
    node: str
    key: str
    summary: dict[str, NodeSummary] = Field(default_factory=dict, description="output port -> summary")


class NodeProgress(_Event):
    type: Literal["node.progress"] = "node.progress"
    node: str
    step: int
    total: int | None = None
    unit: str = "step"
    phase: str | None = Field(None, description="what is being done, in English (the command line's bar)")
    code: Literal["scan", "decode", "features", "epoch", "evaluate"] | None = Field(
        None, description="what is being done, for the editor to say in the person's language: scanning the "
                          "dataset folder, decoding a split's images, computing a split's frozen features, "
                          "training an epoch, evaluating a split")
    split: str | None = Field(None, description="the split being decoded, computed or evaluated")
    epoch: int | None = Field(None, description="the epoch being trained (from 1)")
    epochs: int | None = Field(None, description="how many epochs the trainer runs")


class NodeMetrics(_Event):
    type: Literal["node.metrics"] = "node.metrics"
    node: str
    epoch: int
    metrics: dict[str, float | None] = Field(description="loss, accuracy, val_loss, val_accuracy, ...; "
                                                         "null where the number is not finite")
    best_epoch: int | None = Field(None, description="the epoch whose weights the trainer keeps so far: with "
                                                     "keep-best the highest val_accuracy (the lower val_loss "
                                                     "breaks a tie), else this epoch; its summary's best_epoch "
                                                     "once it finishes")
    resumed: bool = Field(False, description="an epoch trained by the run this one resumed: sent again, first, by "
                                             "a trainer that continues from its checkpoint, so that the curves "
                                             "show the whole training")
    stopped_early: bool = Field(False, description="training stopped after this epoch: the monitored metric had "
                                                   "not improved for the trainer's early-stopping patience")


class NodeLog(_Event):
    type: Literal["node.log"] = "node.log"
    node: str
    level: Literal["info", "warning", "error"] = "info"
    message: str
    code: str | None = Field(None, description="the line's stable code (e.g. images_decoded, cache_corrupt)")
    params: dict[str, JsonValue] = Field(default_factory=dict, description=PARAMS_DESCRIPTION)
    cache: CacheNote | None = Field(None, description="set when the line is about a cache")
    model: ModelSummary | None = Field(None, description="set when the line tells of a model file saved: the "
                                                          "weights a trainer kept when its run was cancelled")
    data: dict[str, JsonValue] = Field(default_factory=dict, description="further details (skipped files, ...)")


class NodeFinished(_Event):
    type: Literal["node.finished"] = "node.finished"
    node: str
    key: str
    seconds: float = 0.0
    summary: dict[str, NodeSummary] = Field(default_factory=dict, description="output port -> summary")


class NodeFailed(_Event):
    type: Literal["node.failed"] = "node.failed"
    node: str
    code: str
    message: str
    params: dict[str, JsonValue] = Field(default_factory=dict, description=PARAMS_DESCRIPTION)
    debug: str | None = None
    key: str | None = Field(None, description="the node's cache key in the failed run: once a validation "
                                              "gives the node another key (its params, inputs or data "
                                              "changed), the failure is out of date")


Event = Annotated[
    Union[RunQueued, RunStarted, RunFinished, RunFailed, RunCancelled, NodeStarted, NodeCached,
          NodeProgress, NodeMetrics, NodeLog, NodeFinished, NodeFailed],
    Field(discriminator="type"),
]
EventAdapter: TypeAdapter[Event] = TypeAdapter(Event)
EventsAdapter: TypeAdapter[list[Event]] = TypeAdapter(list[Event])
TERMINAL = {"run.finished", "run.failed", "run.cancelled"}

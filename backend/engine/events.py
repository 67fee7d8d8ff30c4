"""Events a run emits, as typed models. Each carries run_id, seq and ts on the wire."""
from __future__ import annotations

import time
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, TypeAdapter


class _Event(BaseModel):
    run_id: str = ""
    seq: int = 0
    ts: float = Field(default_factory=time.time)


class RunQueued(_Event):
    type: Literal["run.queued"] = "run.queued"
    targets: list[str] = Field(default_factory=list)


class RunStarted(_Event):
    type: Literal["run.started"] = "run.started"
    plan: list[str] = Field(default_factory=list, description="node ids in execution order")
    cached: list[str] = Field(default_factory=list, description="node ids served from the cache")
    worker: dict[str, Any] | None = Field(
        None, description="who took the run: kind (local, ray, server) and, on a cluster, node_id, node_ip, pid")


class RunFinished(_Event):
    type: Literal["run.finished"] = "run.finished"
    seconds: float = 0.0


class RunFailed(_Event):
    type: Literal["run.failed"] = "run.failed"
    code: str
    message: str
    node: str | None = None
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
    summary: dict[str, Any] = Field(default_factory=dict)


class NodeProgress(_Event):
    type: Literal["node.progress"] = "node.progress"
    node: str
    step: int
    total: int | None = None
    unit: str = "step"
    phase: str | None = None


class NodeMetrics(_Event):
    type: Literal["node.metrics"] = "node.metrics"
    node: str
    epoch: int
    metrics: dict[str, float]


class NodeLog(_Event):
    type: Literal["node.log"] = "node.log"
    node: str
    level: Literal["info", "warning", "error"] = "info"
    message: str
    data: dict[str, Any] = Field(default_factory=dict)


class NodeFinished(_Event):
    type: Literal["node.finished"] = "node.finished"
    node: str
    key: str
    seconds: float = 0.0
    summary: dict[str, Any] = Field(default_factory=dict)


class NodeFailed(_Event):
    type: Literal["node.failed"] = "node.failed"
    node: str
    code: str
    message: str
    debug: str | None = None


Event = Annotated[
    Union[RunQueued, RunStarted, RunFinished, RunFailed, RunCancelled, NodeStarted, NodeCached,
          NodeProgress, NodeMetrics, NodeLog, NodeFinished, NodeFailed],
    Field(discriminator="type"),
]
EventAdapter: TypeAdapter[Event] = TypeAdapter(Event)
TERMINAL = {"run.finished", "run.failed", "run.cancelled"}

"""One reducer from a run's events to its summary: node states, progress, curves, outputs.

The CLI's ``--json``, the samples endpoint, the dispatcher's artifact recording and the
benchmarks read runs through it; the editor's ``reduceRun`` (frontend/src/lib/runstate.ts)
mirrors it, and both are tested on the same recorded event stream
(tests/fixtures/events/template_run.json).
"""
from __future__ import annotations

from typing import Iterable, Literal

from pydantic import BaseModel, Field

from .events import ALWAYS_SENT

from . import events as ev
from .summaries import EvaluationSummary, ModelSummary, NodeSummary
from .why import NodeWhy

RunState = Literal["queued", "running", "finished", "failed", "cancelled", "interrupted"]
NodeState = Literal["queued", "running", "cached", "done", "failed", "cancelled"]
TERMINAL_STATE: dict[str, RunState] = {"run.finished": "finished", "run.failed": "failed",
                                       "run.cancelled": "cancelled"}


class Progress(BaseModel):
    model_config = ALWAYS_SENT

    step: int
    total: int | None = None
    unit: str = "step"
    phase: str | None = None


class RunError(BaseModel):
    model_config = ALWAYS_SENT

    code: str | None = None
    message: str | None = None
    node: str | None = None


class MetricPoint(BaseModel):
    """One epoch of a trainer's curves (live node.metrics, or a stored model's history)."""

    model_config = ALWAYS_SENT

    epoch: int
    metrics: dict[str, float | None]


class NodeRun(BaseModel):
    model_config = ALWAYS_SENT

    state: NodeState
    progress: Progress | None = None
    message: str | None = None
    code: str | None = None
    key: str | None = None
    seconds: float | None = None
    summary: dict[str, NodeSummary] | None = Field(None, description="output port -> summary, once done or cached; "
                                                                    "of a trainer whose run was cancelled, the "
                                                                    "model it saved (its last completed epoch)")


class RunSummary(BaseModel):
    model_config = ALWAYS_SENT

    run_id: str
    status: RunState = "queued"
    plan: list[str] = Field(default_factory=list)
    cached: list[str] = Field(default_factory=list)
    worker: ev.WorkerInfo | None = None
    why: dict[str, NodeWhy] = Field(default_factory=dict, description="node id -> why it ran or came from the cache")
    nodes: dict[str, NodeRun] = Field(default_factory=dict)
    metrics: dict[str, list[MetricPoint]] = Field(default_factory=dict, description="node -> curve by epoch")
    error: RunError | None = None
    seconds: float | None = Field(None, description="the whole run, from run.finished")
    last_seq: int = 0
    active: bool = True

    # -- what callers ask of a summary ----------------------------------------------------
    def outputs(self, node: str) -> dict[str, NodeSummary]:
        run = self.nodes.get(node)
        return dict(run.summary or {}) if run else {}

    def evaluation(self, node: str) -> EvaluationSummary | None:
        return next((s for s in self.outputs(node).values() if isinstance(s, EvaluationSummary)), None)

    def model(self, node: str) -> ModelSummary | None:
        return next((s for s in self.outputs(node).values() if isinstance(s, ModelSummary)), None)


def _history(summary: dict[str, NodeSummary]) -> list[MetricPoint] | None:
    model = next((s for s in summary.values() if isinstance(s, ModelSummary)), None)
    if model is None or not model.history:
        return None
    return [MetricPoint(epoch=i, metrics=h.model_dump(exclude_unset=True)) for i, h in enumerate(model.history, 1)]


class RunReducer:
    """Folds events, in sequence order, into a ``RunSummary``; ``add`` as they arrive."""

    def __init__(self, run_id: str, record_status: RunState | None = None) -> None:
        self.record_status = record_status
        recorded = record_status if record_status not in (None, "queued", "running") else "queued"
        self.summary = RunSummary(run_id=run_id, status=recorded)
        self.terminal: RunState | None = None

    def add(self, event: ev.Event) -> None:
        view = self.summary
        view.last_seq = max(view.last_seq, event.seq)
        match event:
            case ev.RunStarted():
                view.plan, view.cached, view.worker = list(event.plan), list(event.cached), event.worker
                view.why = dict(event.why)
                for nid in view.plan:
                    view.nodes.setdefault(nid, NodeRun(state="queued"))
            case ev.NodeStarted():
                view.nodes[event.node] = NodeRun(state="running")
            case ev.NodeProgress():
                current = view.nodes.get(event.node) or NodeRun(state="running")
                view.nodes[event.node] = current.model_copy(update={"state": "running", "progress": Progress(
                    step=event.step, total=event.total, unit=event.unit, phase=event.phase)})
            case ev.NodeMetrics():
                points = view.metrics.setdefault(event.node, [])
                point = MetricPoint(epoch=event.epoch, metrics=dict(event.metrics))
                at = next((i for i, p in enumerate(points) if p.epoch == event.epoch), None)
                if at is None:
                    points.append(point)
                else:
                    points[at] = point
            case ev.NodeCached() | ev.NodeFinished():
                done = isinstance(event, ev.NodeFinished)
                view.nodes[event.node] = NodeRun(state="done" if done else "cached", key=event.key,
                                                 seconds=event.seconds if done else None,
                                                 summary=dict(event.summary))
                history = _history(event.summary)
                if history and not view.metrics.get(event.node):
                    view.metrics[event.node] = history
            case ev.NodeLog() if event.model is not None:
                # a trainer cut short by a cancel saved its last completed epoch: that model is its output
                current = view.nodes.get(event.node) or NodeRun(state="running")
                view.nodes[event.node] = current.model_copy(update={"summary": {"model": event.model}})
            case ev.NodeFailed():
                current = view.nodes.get(event.node) or NodeRun(state="failed")
                view.nodes[event.node] = current.model_copy(update={"state": "failed", "code": event.code,
                                                                    "message": event.message})
            case ev.RunFinished():
                self.terminal, view.seconds = "finished", event.seconds
            case ev.RunFailed() | ev.RunCancelled():
                self.terminal = TERMINAL_STATE[event.type]
                view.error = RunError(code=getattr(event, "code", None), message=event.message, node=event.node)
        if self.terminal is None and event.type != "run.queued" and view.status == "queued":
            view.status = "running"

    def result(self) -> RunSummary:
        """The summary as of the events so far (a copy: adding more does not change it)."""
        view = self.summary.model_copy(deep=True)
        if self.terminal is not None:
            view.status = self.terminal
            if self.terminal == "failed" and view.error is not None and view.error.code == "interrupted":
                view.status = "interrupted"
        elif self.record_status not in (None, "queued", "running"):
            view.status = self.record_status   # e.g. interrupted by a restart
        view.active = view.status in ("queued", "running")
        if not view.active:
            # nodes that never got to run lose their "queued" mark; one cut short is cancelled or failed
            for nid, node in list(view.nodes.items()):
                if node.state == "queued":
                    del view.nodes[nid]
                elif node.state == "running":
                    view.nodes[nid] = node.model_copy(update={
                        "state": "cancelled" if view.status == "cancelled" else "failed",
                        "message": node.message or (view.error.message if view.error else None)})
        for points in view.metrics.values():
            points.sort(key=lambda p: p.epoch)
        return view


def reduce_run(run_id: str, events: Iterable[ev.Event], record_status: RunState | None = None) -> RunSummary:
    reducer = RunReducer(run_id, record_status)
    for event in events:
        reducer.add(event)
    return reducer.result()

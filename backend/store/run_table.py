"""A project's runs as a table to compare them by: status, duration, graph version, and each
trainer's best epoch and evaluation's result (what W&B's and MLflow's run tables show).

The numbers come from the run's events through the one reducer (``backend.engine.reduce``),
reading only the events that carry them (curves, node results, the run's end): progress and
log lines, most of a run's events, stay in the database.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone

from pydantic import BaseModel, Field
from sqlmodel import col, select

from backend.engine import events as ev
from backend.engine.events import ALWAYS_SENT
from backend.engine.reduce import RunSummary, reduce_run

from .db import Database
from .models import Run, RunEvent, RunPublic

TABLE_EVENTS = ("node.metrics", "node.finished", "node.cached", "run.finished")


class TrainerBest(BaseModel):
    """A trainer's best epoch (the weights it keeps) and that epoch's metrics."""

    model_config = ALWAYS_SENT

    node: str
    epochs: int = Field(description="epochs trained so far (or in all, once finished)")
    best_epoch: int | None = Field(None, description="the epoch whose weights it keeps (the last one while it "
                                                     "trains without keep-best)")
    metrics: dict[str, float | None] = Field(default_factory=dict, description="loss, accuracy, val_loss, "
                                                                               "val_accuracy, ... of best_epoch")
    cached: bool = Field(False, description="it came from the cache: an earlier run trained it")


class EvaluationResult(BaseModel):
    model_config = ALWAYS_SENT

    node: str
    split: str
    accuracy: float | None
    loss: float | None


class RunRow(RunPublic):
    """One run of the table: the run, how long it took and its best numbers."""

    model_config = {**RunPublic.model_config, **ALWAYS_SENT}   # the editor's types: every field is there

    seconds: float | None = Field(None, description="how long it ran (so far, while it runs)")
    trainers: list[TrainerBest] = Field(default_factory=list)
    evaluations: list[EvaluationResult] = Field(default_factory=list)


def _aware(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def _seconds(run: Run, summary: RunSummary) -> float | None:
    if summary.seconds is not None:
        return summary.seconds
    started, finished = _aware(run.started_at), _aware(run.finished_at)
    if started is None:
        return None
    end = finished or (datetime.now(timezone.utc) if run.status == "running" else None)
    return round((end - started).total_seconds(), 2) if end else None


def trainers(summary: RunSummary) -> list[TrainerBest]:
    """Each node with a curve, in the order it trained."""
    out = []
    for node, points in summary.metrics.items():
        if not points:
            continue
        model = summary.model(node)
        best = model.best_epoch if model and model.best_epoch else points[-1].epoch
        point = next((p for p in points if p.epoch == best), points[-1])
        state = summary.nodes.get(node)
        out.append(TrainerBest(node=node, epochs=model.epochs if model else points[-1].epoch, best_epoch=best,
                               metrics=dict(point.metrics), cached=bool(state and state.state == "cached")))
    return out


def evaluations(summary: RunSummary) -> list[EvaluationResult]:
    out = []
    for node in summary.nodes:
        report = summary.evaluation(node)
        if report is not None:
            out.append(EvaluationResult(node=node, split=report.split, accuracy=report.accuracy, loss=report.loss))
    return out


def run_table(db: Database, project_id: int, limit: int = 200) -> list[RunRow]:
    """The project's runs, newest first, each with its duration and best numbers."""
    with db.read() as s:
        runs = list(s.exec(select(Run).where(Run.project_id == project_id)
                           .order_by(col(Run.created_at).desc(), col(Run.id).desc()).limit(limit)))
        payloads: dict[str, list[dict]] = defaultdict(list)
        if runs:
            rows = s.exec(select(RunEvent.run_id, RunEvent.payload)
                          .where(col(RunEvent.run_id).in_([r.id for r in runs]),
                                 col(RunEvent.type).in_(TABLE_EVENTS))
                          .order_by(col(RunEvent.run_id), col(RunEvent.seq)))
            for run_id, payload in rows:
                payloads[run_id].append(payload)
    out = []
    for run in runs:
        summary = reduce_run(run.id, ev.EventsAdapter.validate_python(payloads[run.id]), run.status)
        row = RunPublic.model_validate(run, from_attributes=True)
        out.append(RunRow(**row.model_dump(), seconds=_seconds(run, summary), trainers=trainers(summary),
                          evaluations=evaluations(summary)))
    return out

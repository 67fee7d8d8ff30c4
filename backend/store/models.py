"""The database tables (SQLModel). The schema itself is created by the Alembic migrations."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _time(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)


class Project(SQLModel, table=True):
    __tablename__ = "projects"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    version: int = Field(default=0, description="number of the latest graph version")
    created_at: datetime = _time()
    updated_at: datetime = _time()


class GraphVersion(SQLModel, table=True):
    __tablename__ = "graph_versions"
    __table_args__ = (UniqueConstraint("project_id", "version", name="uq_graph_versions_project_version"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    version: int
    graph: dict[str, Any] = Field(sa_type=JSON)
    created_at: datetime = _time()


class Run(SQLModel, table=True):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_status_created", "status", "created_at"),)

    id: str = Field(primary_key=True, max_length=32)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    status: str = Field(default="queued", max_length=16)
    targets: list[str] = Field(default_factory=list, sa_type=JSON)
    mode: str = Field(default="to", max_length=8)
    graph: dict[str, Any] = Field(sa_type=JSON)
    graph_version: int | None = None
    created_at: datetime = _time()
    started_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    error: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    last_seq: int = Field(default=0, description="sequence number of the last stored event")


class RunEvent(SQLModel, table=True):
    __tablename__ = "run_events"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_run_events_run_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(sa_column=Column(String(32), ForeignKey("runs.id", ondelete="CASCADE"),
                                         nullable=False))
    seq: int
    type: str = Field(max_length=32)
    ts: float
    payload: dict[str, Any] = Field(sa_type=JSON)


class Result(SQLModel, table=True):
    """A node output stored in the worker's result store, by cache key."""

    __tablename__ = "results"

    key: str = Field(primary_key=True, max_length=64)
    node: str = Field(max_length=200)
    component: str = Field(max_length=200)
    path: str
    created: datetime = _time()


class Artifact(SQLModel, table=True):
    """A file a run produced (a trained model), downloadable through the API."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("run_id", "node", "kind", name="uq_artifacts_run_node_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(sa_column=Column(String(32), ForeignKey("runs.id", ondelete="CASCADE"),
                                         nullable=False, index=True))
    node: str = Field(max_length=200)
    kind: str = Field(default="model", max_length=32)
    key: str | None = Field(default=None, max_length=64)
    path: str
    created_at: datetime = _time()

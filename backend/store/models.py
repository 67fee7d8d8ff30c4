"""The database tables (SQLModel), and the public models the API answers with.

Each table derives from a Base of the fields it shares with its public model (the FastAPI
full-stack template's pattern): ``Run(RunBase, table=True)`` is the row, ``RunPublic(RunBase)``
what the API returns, so the two cannot drift. The schema itself is created by the Alembic
migrations.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, field_serializer
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.engine.graph_diff import VersionChange
from backend.engine.graph_document import GraphDocument

RunStatus = Literal["queued", "running", "finished", "failed", "cancelled", "interrupted"]
RunMode = Literal["node", "to", "all"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _time(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:  # SQLite returns naive datetimes; they are stored in UTC
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.isoformat()


class _Public(SQLModel):
    """A public model: times in ISO 8601 with their UTC offset."""

    @field_serializer("created_at", "updated_at", "started_at", "finished_at", "saved_at", when_used="json",
                      check_fields=False)
    def _times(self, value: datetime | None) -> str | None:
        return iso(value)


# -- projects --------------------------------------------------------------------------------
class ProjectBase(SQLModel):
    name: str = Field(max_length=200)
    version: int = Field(default=0, description="number of the latest graph version")
    created_at: datetime = _time()
    updated_at: datetime = _time()


class Project(ProjectBase, table=True):
    __tablename__ = "projects"

    id: int | None = Field(default=None, primary_key=True)


class ProjectPublic(_Public, ProjectBase):
    id: int
    graph: GraphDocument | None = Field(None, description="the latest graph version (when asked for one project)")


class GraphVersionBase(SQLModel):
    version: int
    created_at: datetime = _time()
    saved_at: datetime = _time(description="its last save: rapid saves from one editor replace the latest version")
    saves: int = Field(default=1, description="how many saves it holds (rapid saves replace the latest version)")


class GraphVersion(GraphVersionBase, table=True):
    __tablename__ = "graph_versions"
    __table_args__ = (UniqueConstraint("project_id", "version", name="uq_graph_versions_project_version"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    graph: dict[str, Any] = Field(sa_type=JSON)
    changes: list[dict[str, Any]] | None = Field(
        default=None, sa_type=JSON, description="VersionChange items from the version before (null: not yet known)")
    client: str | None = Field(default=None, max_length=64,
                               description="the editor that saved it; null for a creation, a restore or an API save")


class VersionPublic(_Public, GraphVersionBase):
    changes: list[VersionChange] = Field(default=[], description="what changed from the version before, for the "
                                                                 "editor to word (pydantic copies the default)")
    runs: int = Field(0, description="how many runs ran this version (a version a run used is never rewritten)")


class VersionWithGraph(_Public, GraphVersionBase):
    graph: GraphDocument


# -- runs --------------------------------------------------------------------------------------
class RunError(BaseModel):
    code: str | None = None
    message: str | None = None
    node: str | None = None


class RunBase(SQLModel):
    status: RunStatus = Field(default="queued", sa_type=String(16))
    targets: list[str] = Field(default_factory=list, sa_type=JSON)
    mode: RunMode = Field(default="to", sa_type=String(8))
    graph_version: int | None = None
    created_at: datetime = _time()
    started_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resumed_from: str | None = Field(default=None, max_length=32,
                                     description="the run this one resumes: it continues from that run's checkpoints")
    auto_resumes: int = Field(default=0, description="how many times in a row the studio resumed this run's chain by "
                                                     "itself after its worker died (0: started or resumed by a person)")


class Run(RunBase, table=True):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_status_created", "status", "created_at"),)

    id: str = Field(primary_key=True, max_length=32)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    graph: dict[str, Any] = Field(sa_type=JSON)
    error: dict[str, Any] | None = Field(default=None, sa_type=JSON, description="a RunError, as JSON")
    last_seq: int = Field(default=0, description="sequence number of the last stored event")


class RunPublic(_Public, RunBase):
    id: str
    project_id: int
    error: RunError | None = Field(None, description="why it failed, was cancelled or interrupted")


class RunEvent(SQLModel, table=True):
    """One stored event: ``payload`` is the event model's JSON (backend.engine.events)."""

    __tablename__ = "run_events"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_run_events_run_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(sa_column=Column(String(32), ForeignKey("runs.id", ondelete="CASCADE"),
                                         nullable=False))
    seq: int
    type: str = Field(max_length=32)
    ts: float
    payload: dict[str, Any] = Field(sa_type=JSON)


# -- artifacts -------------------------------------------------------------------------------
class ArtifactBase(SQLModel):
    node: str = Field(max_length=200)
    kind: str = Field(default="model", max_length=32)
    path: str


class Artifact(ArtifactBase, table=True):
    """A file a run produced (a trained model), downloadable through the API."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("run_id", "node", "kind", name="uq_artifacts_run_node_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(sa_column=Column(String(32), ForeignKey("runs.id", ondelete="CASCADE"),
                                         nullable=False, index=True))
    key: str | None = Field(default=None, max_length=64)
    created_at: datetime = _time()


class ArtifactPublic(_Public, ArtifactBase):
    """A run's file, with what the editor names it by: its run, when, and the epoch of its weights."""

    run_id: str
    created_at: datetime
    url: str = Field(description="where to download it")
    epoch: int | None = Field(None, description="the epoch whose weights the model file holds")
    epochs: int | None = Field(None, description="how many epochs the model had trained")
    partial: bool = Field(False, description="true: the last completed epoch a trainer saved when its run "
                                             "was cancelled, not a finished training")
    present: bool = Field(True, description="false: the file is no longer on disk (the cache's budget removed it, "
                                            "or it was deleted): run the node again to make it anew")
    evicted_at: float | None = Field(None, description="when the cache's budget removed it, seconds since the epoch")

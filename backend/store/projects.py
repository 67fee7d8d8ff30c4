"""Projects and their numbered graph versions.

Every save of a graph is a new version, except rapid saves from one editor: a save that names
its ``client`` replaces the latest version (same number) when that version was saved by the same
client less than ``coalesce_s`` ago, was first saved less than ``coalesce_max_s`` ago, and no run
used it; a save equal to the latest version stores nothing. A project's first version, a restored
one and a version a run used are never rewritten. Each version keeps what changed from the one
before it (``backend.engine.graph_diff``).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from backend.engine.graph_diff import Defaults, Restored, changes_json, diff

from .db import Database
from .models import GraphVersion, Project, Run, VersionPublic, utcnow

COALESCE_S = 60.0  # a save this soon after the latest one from the same editor replaces it...
COALESCE_MAX_S = 600.0  # ...while that version is younger than this (a long session still leaves versions)


MAX_NAME = 200  # Project.name's column length


def numbered_name(name: str, taken: set[str]) -> str:
    """``name`` when no project has it, else the first free ``name 2``, ``name 3``, ... (within MAX_NAME)."""
    if name not in taken:
        return name
    n = 2
    while True:
        suffix = f" {n}"
        candidate = name[: MAX_NAME - len(suffix)].rstrip() + suffix
        if candidate not in taken:
            return candidate
        n += 1


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)  # SQLite's are naive UTC


class ProjectStore:
    def __init__(self, db: Database, *, defaults: Defaults | None = None, coalesce_s: float = COALESCE_S,
                 coalesce_max_s: float = COALESCE_MAX_S, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.defaults = defaults  # each component's parameter defaults, for the changes' old -> new
        self.coalesce_s = coalesce_s
        self.coalesce_max_s = coalesce_max_s
        self.clock = clock

    def _changes(self, old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
        return changes_json(diff(old, new, defaults=self.defaults))

    def create(self, name: str, graph: dict[str, Any]) -> tuple[Project, GraphVersion]:
        """A new project; a name another project has gets a number (two projects from one template
        are told apart in the list). Writes are serialised, so two at once get two numbers."""
        with self.db.write() as s:
            # Every numbered form of the name starts with its first 100 characters.
            similar = s.exec(select(Project.name).where(col(Project.name).startswith(name[:100], autoescape=True)))
            project = Project(name=numbered_name(name, set(similar)), version=1)
            s.add(project)
            s.flush()
            now = self.clock()
            version = GraphVersion(project_id=project.id, version=1, graph=graph, created_at=now, saved_at=now,
                                   changes=self._changes(None, graph))
            s.add(version)
        return project, version

    def list(self) -> list[Project]:
        with self.db.read() as s:
            return list(s.exec(select(Project).order_by(col(Project.updated_at).desc(), col(Project.id).desc())))

    def get(self, project_id: int) -> Project | None:
        with self.db.read() as s:
            return s.get(Project, project_id)

    def rename(self, project_id: int, name: str) -> Project | None:
        with self.db.write() as s:
            project = s.get(Project, project_id, with_for_update=True)
            if project is None:
                return None
            project.name = name
            project.updated_at = utcnow()
            s.add(project)
        return project

    def delete(self, project_id: int) -> bool:
        from .models import Artifact, Run, RunEvent

        with self.db.write() as s:
            project = s.get(Project, project_id)
            if project is None:
                return False
            # Explicit deletes: SQLite enforces ON DELETE CASCADE only with foreign_keys on,
            # and this keeps both databases alike.
            run_ids = select(Run.id).where(Run.project_id == project_id)
            s.exec(delete(RunEvent).where(col(RunEvent.run_id).in_(run_ids)))
            s.exec(delete(Artifact).where(col(Artifact.run_id).in_(run_ids)))
            s.exec(delete(Run).where(Run.project_id == project_id))
            s.exec(delete(GraphVersion).where(GraphVersion.project_id == project_id))
            s.delete(project)
        return True

    def save_graph(self, project_id: int, graph: dict[str, Any], *, client: str | None = None,
                   restored_from: int | None = None) -> GraphVersion | None:
        """Store ``graph`` as the project's next version, or, for a rapid save from the editor
        ``client``, in place of the latest version (see the module's docstring)."""
        with self.db.write() as s:
            project = s.get(Project, project_id, with_for_update=True)
            if project is None:
                return None
            now = self.clock()
            latest = self._version(s, project_id, project.version)
            if client is not None and restored_from is None and latest is not None:
                if latest.graph == graph:
                    return latest
                if self._may_replace(s, latest, client, now):
                    before = self._version(s, project_id, latest.version - 1, below=True)
                    latest.graph = graph
                    latest.changes = self._changes(before.graph if before else None, graph)
                    latest.saved_at = now
                    latest.saves += 1
                    project.updated_at = now
                    s.add(project)
                    s.add(latest)
                    return latest
            changes = self._changes(latest.graph if latest else None, graph)
            if restored_from is not None:
                changes = [Restored(version=restored_from).model_dump(mode="json"), *changes]
            project.version += 1
            project.updated_at = now
            version = GraphVersion(project_id=project_id, version=project.version, graph=graph, created_at=now,
                                   saved_at=now, changes=changes, client=client)
            s.add(project)
            s.add(version)
        return version

    @staticmethod
    def _version(s: Session, project_id: int, version: int, *, below: bool = False) -> GraphVersion | None:
        """Version ``version`` (``below``: the newest at or below it)."""
        query = select(GraphVersion).where(GraphVersion.project_id == project_id)
        if below:
            query = query.where(GraphVersion.version <= version).order_by(col(GraphVersion.version).desc()).limit(1)
        else:
            query = query.where(GraphVersion.version == version)
        return s.exec(query).first()

    def _may_replace(self, s: Session, latest: GraphVersion, client: str, now: datetime) -> bool:
        if latest.client != client or latest.version <= 1:
            return False
        if (now - _aware(latest.saved_at)).total_seconds() >= self.coalesce_s:
            return False
        if (now - _aware(latest.created_at)).total_seconds() >= self.coalesce_max_s:
            return False
        used = s.exec(select(Run.id).where(Run.project_id == latest.project_id,
                                           Run.graph_version == latest.version).limit(1)).first()
        return used is None

    def latest(self, project_id: int) -> GraphVersion | None:
        with self.db.read() as s:
            return s.exec(select(GraphVersion).where(GraphVersion.project_id == project_id)
                          .order_by(col(GraphVersion.version).desc()).limit(1)).first()

    def versions(self, project_id: int) -> list[tuple[int, Any]]:
        """(version, created_at) of every version, newest first, without the graphs."""
        with self.db.read() as s:
            return [tuple(row) for row in s.exec(
                select(GraphVersion.version, GraphVersion.created_at)
                .where(GraphVersion.project_id == project_id).order_by(col(GraphVersion.version).desc()))]

    def history(self, project_id: int) -> list[VersionPublic]:
        """Every version, newest first, with what changed from the one before and how many runs used it.
        Versions saved before changes were kept get theirs computed here."""
        with self.db.read() as s:
            rows = list(s.exec(select(GraphVersion.version, GraphVersion.created_at, GraphVersion.saved_at,
                                      GraphVersion.saves, GraphVersion.changes)
                               .where(GraphVersion.project_id == project_id)
                               .order_by(col(GraphVersion.version).desc())))
            runs = dict(s.exec(select(Run.graph_version, func.count())
                               .where(Run.project_id == project_id, col(Run.graph_version).is_not(None))
                               .group_by(Run.graph_version)).all())
            numbers = [row[0] for row in rows]
            before = {v: numbers[i + 1] if i + 1 < len(numbers) else None for i, v in enumerate(numbers)}
            unknown = [row[0] for row in rows if row[4] is None]
            needed = {v for v in unknown} | {before[v] for v in unknown if before[v] is not None}
            graphs = dict(s.exec(select(GraphVersion.version, GraphVersion.graph).where(
                GraphVersion.project_id == project_id, col(GraphVersion.version).in_(needed))).all()) if needed else {}
        out = []
        for version, created_at, saved_at, saves, changes in rows:
            if changes is None:
                previous = before[version]
                changes = self._changes(graphs.get(previous) if previous is not None else None, graphs[version])
            out.append(VersionPublic(version=version, created_at=created_at, saved_at=saved_at, saves=saves,
                                     changes=changes, runs=runs.get(version, 0)))
        return out

    def version(self, project_id: int, version: int) -> GraphVersion | None:
        with self.db.read() as s:
            return s.exec(select(GraphVersion).where(GraphVersion.project_id == project_id,
                                                     GraphVersion.version == version)).first()

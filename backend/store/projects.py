"""Projects and their numbered graph versions: every save of a graph is a new version."""
from __future__ import annotations

from typing import Any

from sqlmodel import col, delete, select

from .db import Database
from .models import GraphVersion, Project, utcnow


class ProjectStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, graph: dict[str, Any]) -> tuple[Project, GraphVersion]:
        with self.db.write() as s:
            project = Project(name=name, version=1)
            s.add(project)
            s.flush()
            version = GraphVersion(project_id=project.id, version=1, graph=graph)
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

    def save_graph(self, project_id: int, graph: dict[str, Any]) -> GraphVersion | None:
        """Store ``graph`` as the project's next version."""
        with self.db.write() as s:
            project = s.get(Project, project_id, with_for_update=True)
            if project is None:
                return None
            project.version += 1
            project.updated_at = utcnow()
            version = GraphVersion(project_id=project_id, version=project.version, graph=graph)
            s.add(project)
            s.add(version)
        return version

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

    def version(self, project_id: int, version: int) -> GraphVersion | None:
        with self.db.read() as s:
            return s.exec(select(GraphVersion).where(GraphVersion.project_id == project_id,
                                                     GraphVersion.version == version)).first()

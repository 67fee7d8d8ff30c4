"""Which files each run produced (trained models), for download through the API.

What is cached is not indexed here: the result store's files and their JSON sidecars
(backend/store/artifacts.py) answer "is it cached?" for the run service and the executor alike.
"""
from __future__ import annotations

from sqlmodel import col, select

from .db import Database
from .models import Artifact, Run


class ArtifactIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, run_id: str, node: str, kind: str, path: str, key: str | None) -> None:
        with self.db.write() as s:
            if s.get(Run, run_id) is None:
                return
            row = s.exec(select(Artifact).where(Artifact.run_id == run_id, Artifact.node == node,
                                                Artifact.kind == kind)).first()
            if row is None:
                row = Artifact(run_id=run_id, node=node, kind=kind, path=path, key=key)
            row.path, row.key = path, key
            s.add(row)

    def of_run(self, run_id: str) -> list[Artifact]:
        with self.db.read() as s:
            return list(s.exec(select(Artifact).where(Artifact.run_id == run_id).order_by(col(Artifact.id))))

    def get(self, run_id: str, node: str, kind: str = "model") -> Artifact | None:
        with self.db.read() as s:
            return s.exec(select(Artifact).where(Artifact.run_id == run_id, Artifact.node == node,
                                                 Artifact.kind == kind)).first()

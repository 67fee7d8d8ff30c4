"""The run queue, kept in the database, and each run's event log.

Runs are inserted as ``queued``; the dispatcher claims the oldest one with a conditional
update (so two claimers never take the same run). Every event gets the run's next
sequence number in the same transaction that stores it; a terminal event also sets the
run's final status, so a client that saw the event reads the final run.
"""
from __future__ import annotations

import math
import time
import uuid
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select, update

from .db import Database
from .models import Artifact, Result, Run, RunEvent, utcnow

TERMINAL_STATUS = {"run.finished": "finished", "run.failed": "failed", "run.cancelled": "cancelled"}
ACTIVE = ("queued", "running")
INTERRUPTED_MESSAGE = "the server stopped while this run was executing"


def json_safe(value: Any) -> Any:
    """JSON without NaN or infinities (PostgreSQL's json and strict encoders refuse them)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # the common leaves first: this runs for every stored event
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k if type(k) is str else str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


class RunQueue:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- queue ------------------------------------------------------------------------
    def enqueue(self, project_id: int, graph: dict[str, Any], targets: list[str], mode: str,
                graph_version: int | None) -> tuple[Run, dict[str, Any]]:
        """A new queued run and its stored run.queued event."""
        with self.db.write() as s:
            run = Run(id=new_run_id(), project_id=project_id, graph=graph, targets=list(targets), mode=mode,
                      graph_version=graph_version)
            s.add(run)
            s.flush()
            event = self._append(s, run, {"type": "run.queued", "targets": list(targets)})
        return run, event

    def claim_next(self) -> Run | None:
        """Mark the oldest queued run running and return it (None when the queue is empty)."""
        while True:
            with self.db.write() as s:
                run = s.exec(select(Run).where(Run.status == "queued")
                             .order_by(col(Run.created_at), col(Run.id)).limit(1)).first()
                if run is None:
                    return None
                claimed = s.exec(update(Run).where(col(Run.id) == run.id, col(Run.status) == "queued")
                                 .values(status="running", started_at=utcnow())).rowcount
            if claimed:
                return self.get(run.id)
            # someone else took or cancelled it in between: try the next one

    def cancel_queued(self, run_id: str, message: str = "cancelled before it started") -> dict[str, Any] | None:
        """Cancel a run that has not started; returns the stored event, or None if it had started."""
        with self.db.write() as s:
            done = s.exec(update(Run).where(col(Run.id) == run_id, col(Run.status) == "queued")
                          .values(status="cancelled", finished_at=utcnow())).rowcount
            if not done:
                return None
            run = s.get(Run, run_id)
            s.refresh(run)
            return self._append(s, run, {"type": "run.cancelled", "message": message}, terminal=False)

    def interrupt_running(self, reason: str = INTERRUPTED_MESSAGE) -> list[tuple[Run, dict[str, Any]]]:
        """At startup: runs still marked running were cut off by a stopped server."""
        out = []
        with self.db.read() as s:
            ids = list(s.exec(select(Run.id).where(Run.status == "running")))
        for run_id in ids:
            event = self.append_event(run_id, {"type": "run.failed", "code": "interrupted", "message": reason})
            if event is not None:
                out.append((self.get(run_id), event))
        return out

    # -- events -------------------------------------------------------------------------
    def _append(self, s, run: Run, event: dict[str, Any], terminal: bool = True) -> dict[str, Any]:
        payload = self._number(run, event, run.last_seq + 1, terminal)
        run.last_seq = payload["seq"]
        s.add(run)
        s.add(RunEvent(run_id=run.id, seq=run.last_seq, type=str(payload.get("type", "unknown"))[:32],
                       ts=float(payload["ts"]), payload=payload))
        return payload

    @staticmethod
    def _number(run: Run, event: dict[str, Any], seq: int, terminal: bool = True) -> dict[str, Any]:
        """The event as stored: number ``seq``, a ts, JSON-safe; a terminal event ends the run.

        The caller sets ``run.last_seq`` (once per transaction: attribute writes on the
        model cost more than the rest of this).
        """
        payload = json_safe({**event, "run_id": run.id, "seq": seq})
        if not isinstance(payload.get("ts"), (int, float)):
            payload["ts"] = time.time()
        kind = str(payload.get("type", "unknown"))
        if terminal and kind in TERMINAL_STATUS and run.status in ACTIVE:
            status = TERMINAL_STATUS[kind]
            if kind == "run.failed":
                if payload.get("code") == "interrupted":
                    status = "interrupted"
                run.error = {k: payload.get(k) for k in ("code", "message", "node")}
            run.status = status
            run.finished_at = utcnow()
        return payload

    def append_event(self, run_id: str, event: dict[str, Any]) -> dict[str, Any] | None:
        """Store one event with the run's next sequence number (None if the run is gone).

        The worker numbers its events itself; those numbers are replaced, so events the
        server adds (queued, interrupted, worker died) share one sequence per run.
        """
        with self.db.write() as s:
            run = s.get(Run, run_id, with_for_update=True)
            if run is None:
                return None
            return self._append(s, run, event)

    def append_events(self, run_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Store several events in one transaction, numbered in order (None if the run is gone).

        One run-row update and one multi-row insert: SQLite stores ~7x more events per second
        this way than one transaction per event. Nothing is stored unless all of them are.
        """
        if not events:
            return []
        with self.db.write() as s:
            run = s.get(Run, run_id, with_for_update=True)
            if run is None:
                return None
            stored, rows = [], []
            seq = run.last_seq
            for event in events:
                seq += 1
                payload = self._number(run, event, seq)
                stored.append(payload)
                rows.append({"run_id": run.id, "seq": seq, "type": str(payload.get("type", "unknown"))[:32],
                             "ts": float(payload["ts"]), "payload": payload})
            run.last_seq = seq
            s.add(run)
            s.flush()
            s.connection().execute(insert(RunEvent.__table__), rows)  # Core: no ORM object per row
            return stored

    def events_after(self, run_id: str, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        with self.db.read() as s:
            query = (select(RunEvent.payload).where(RunEvent.run_id == run_id, RunEvent.seq > after)
                     .order_by(col(RunEvent.seq)))
            if limit:
                query = query.limit(limit)
            return list(s.exec(query))

    # -- runs -------------------------------------------------------------------------
    def get(self, run_id: str) -> Run | None:
        with self.db.read() as s:
            return s.get(Run, run_id)

    def list(self, project_id: int | None = None, limit: int = 200) -> list[Run]:
        with self.db.read() as s:
            query = select(Run)
            if project_id is not None:
                query = query.where(Run.project_id == project_id)
            return list(s.exec(query.order_by(col(Run.created_at).desc(), col(Run.id).desc()).limit(limit)))

    # -- results and artifacts -------------------------------------------------------
    def record_result(self, key: str, node: str, component: str, path: str) -> None:
        with self.db.write() as s:
            row = s.get(Result, key)
            if row is None:
                s.add(Result(key=key, node=node, component=component, path=path))

    def result(self, key: str) -> Result | None:
        with self.db.read() as s:
            return s.get(Result, key)

    def record_artifact(self, run_id: str, node: str, kind: str, path: str, key: str | None) -> None:
        with self.db.write() as s:
            if s.get(Run, run_id) is None:
                return
            row = s.exec(select(Artifact).where(Artifact.run_id == run_id, Artifact.node == node,
                                                Artifact.kind == kind)).first()
            if row is None:
                row = Artifact(run_id=run_id, node=node, kind=kind, path=path, key=key)
            row.path, row.key = path, key
            s.add(row)

    def artifacts(self, run_id: str) -> list[Artifact]:
        with self.db.read() as s:
            return list(s.exec(select(Artifact).where(Artifact.run_id == run_id).order_by(col(Artifact.id))))

    def artifact(self, run_id: str, node: str, kind: str = "model") -> Artifact | None:
        with self.db.read() as s:
            return s.exec(select(Artifact).where(Artifact.run_id == run_id, Artifact.node == node,
                                                 Artifact.kind == kind)).first()

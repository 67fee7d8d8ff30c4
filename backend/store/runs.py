"""The run queue, kept in the database.

Runs are inserted as ``queued``; the dispatcher claims the oldest one with a conditional
update (so two claimers never take the same run). The queue's own events (queued,
cancelled before it started, interrupted) go to the run's event log in the same
transaction as the change they announce.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select, update

from backend.engine import events as ev
from backend.engine.reduce import RunReducer

from .db import Database
from .events import ACTIVE, EventLog
from .models import GraphVersion, Run, utcnow

INTERRUPTED_MESSAGE = "the server stopped while this run was executing"


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


class RunQueue:
    def __init__(self, db: Database, events: EventLog) -> None:
        self.db = db
        self.events = events

    def enqueue(self, project_id: int, graph: dict[str, Any], targets: list[str], mode: str,
                graph_version: int | None, *, version_saves: int | None = None, resumed_from: str | None = None,
                auto_resumes: int = 0) -> tuple[Run, ev.Event]:
        """A new queued run and its stored run.queued event.

        ``version_saves``: how many saves ``graph_version`` held when its graph was read. A rapid
        save may have replaced that version since; the run then names no version rather than one
        whose graph is not the one it runs (once the run is stored, that version is never rewritten).
        ``resumed_from``: the run this one resumes (``auto_resumes``: the studio's resumes in a row).
        """
        with self.db.write() as s:
            if graph_version is not None and version_saves is not None:
                same = s.exec(select(GraphVersion.id).where(
                    GraphVersion.project_id == project_id, GraphVersion.version == graph_version,
                    GraphVersion.saves == version_saves)).first()
                if same is None:
                    graph_version = None
            run = Run(id=new_run_id(), project_id=project_id, graph=graph, targets=list(targets), mode=mode,
                      graph_version=graph_version, resumed_from=resumed_from, auto_resumes=auto_resumes)
            s.add(run)
            s.flush()
            [event] = self.events.append_in(s, run, [ev.RunQueued(targets=list(targets), resumed_from=resumed_from)])
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

    def cancel_queued(self, run_id: str, message: str = "cancelled before it started") -> ev.Event | None:
        """Cancel a run that has not started; returns the stored event, or None if it had started."""
        with self.db.write() as s:
            done = s.exec(update(Run).where(col(Run.id) == run_id, col(Run.status) == "queued")
                          .values(status="cancelled", finished_at=utcnow())).rowcount
            if not done:
                return None
            run = s.get(Run, run_id)
            s.refresh(run)
            [event] = self.events.append_in(s, run, [ev.RunCancelled(message=message)], terminal=False)
            return event

    def cancel_running(self, run_id: str, message: str) -> ev.Event | None:
        """End a run marked running that nothing follows any more (its dispatcher thread hit an
        error); returns the stored run.cancelled, or None if it was not running."""
        node = self.running_node(run_id)
        with self.db.write() as s:
            run = s.get(Run, run_id, with_for_update=True)
            if run is None or run.status != "running":
                return None
            [event] = self.events.append_in(s, run, [ev.RunCancelled(node=node, message=message)])
            return event

    def running_node(self, run_id: str) -> str | None:
        """The node the run's stored events say is executing (started, not yet ended)."""
        reducer = RunReducer(run_id)
        for event in self.events.after(run_id):
            reducer.add(event)
        return next((nid for nid, node in reducer.summary.nodes.items() if node.state == "running"), None)

    def interrupt_running(self, reason: str = INTERRUPTED_MESSAGE) -> list[tuple[Run, ev.Event]]:
        """At startup: runs still marked running were cut off by a stopped server."""
        out = []
        with self.db.read() as s:
            ids = list(s.exec(select(Run.id).where(Run.status == "running")))
        for run_id in ids:
            event = self.events.append(run_id, ev.RunFailed(code="interrupted", message=reason,
                                                            node=self.running_node(run_id)))
            if event is not None:
                out.append((self.get(run_id), event))
        return out

    def get(self, run_id: str) -> Run | None:
        with self.db.read() as s:
            return s.get(Run, run_id)

    def resuming(self, run_id: str) -> Run | None:
        """A queued or running run that resumes ``run_id``, if there is one."""
        with self.db.read() as s:
            return s.exec(select(Run).where(Run.resumed_from == run_id,
                                            col(Run.status).in_(("queued", "running")))).first()

    def active(self) -> list[Run]:
        """Every queued or running run (by the status index, however many runs there are)."""
        with self.db.read() as s:
            return list(s.exec(select(Run).where(col(Run.status).in_(ACTIVE))))

    def list(self, project_id: int | None = None, limit: int = 200) -> list[Run]:
        with self.db.read() as s:
            query = select(Run)
            if project_id is not None:
                query = query.where(Run.project_id == project_id)
            return list(s.exec(query.order_by(col(Run.created_at).desc(), col(Run.id).desc()).limit(limit)))

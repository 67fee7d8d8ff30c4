"""The store on SQLite and PostgreSQL: migrations, projects, versions, the run queue, the event
log and the artifact index (each with one owner)."""
from __future__ import annotations

import threading

from sqlmodel import SQLModel, select

from backend.engine import events as ev
from backend.store.artifact_index import ArtifactIndex
from backend.store.events import EventLog
from backend.store.models import Artifact, Run, RunEvent
from backend.store.projects import ProjectStore
from backend.store.runs import INTERRUPTED_MESSAGE, RunQueue


def stores(db) -> tuple[RunQueue, EventLog]:
    events = EventLog(db)
    return RunQueue(db, events), events


def test_migrations_build_the_models_schema(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db.migrate()  # idempotent: a second startup changes nothing
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []
    if db.is_sqlite:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_projects_and_versions(db):
    projects = ProjectStore(db)
    p, v1 = projects.create("cats", {"nodes": [], "edges": [], "name": "一"})
    assert (p.version, v1.version) == (1, 1)
    assert projects.save_graph(p.id, {"nodes": [{"id": "a"}]}).version == 2
    assert projects.save_graph(p.id, {"nodes": [{"id": "b"}]}).version == 3
    assert [v for v, _ in projects.versions(p.id)] == [3, 2, 1]
    assert projects.latest(p.id).graph == {"nodes": [{"id": "b"}]}
    assert projects.version(p.id, 1).graph["name"] == "一"
    assert projects.get(p.id).version == 3
    assert projects.rename(p.id, "dogs").name == "dogs"
    assert projects.save_graph(999, {}) is None and projects.rename(999, "x") is None

    runs, events = stores(db)
    run, _ = runs.enqueue(p.id, {}, ["a"], "to", 3)
    ArtifactIndex(db).record(run.id, "a", "model", "/x/model.pt", "k")
    assert projects.delete(p.id) is True
    assert projects.get(p.id) is None and runs.get(run.id) is None
    assert projects.versions(p.id) == [] and events.after(run.id) == []
    assert projects.delete(p.id) is False


def test_queue_claims_oldest_first_and_cancels(db):
    pid = ProjectStore(db).create("q", {})[0].id
    runs, _ = stores(db)
    made = [runs.enqueue(pid, {"n": i}, [f"t{i}"], "to", None) for i in range(3)]
    first_run, first_event = made[0]
    assert isinstance(first_event, ev.RunQueued) and first_event.seq == 1 and first_event.targets == ["t0"]
    assert first_event.run_id == first_run.id
    claimed = runs.claim_next()
    assert claimed.id == first_run.id and claimed.status == "running" and claimed.started_at is not None
    assert runs.cancel_queued(claimed.id) is None  # already running
    cancelled = runs.cancel_queued(made[2][0].id)
    assert isinstance(cancelled, ev.RunCancelled) and cancelled.seq == 2
    assert runs.get(made[2][0].id).status == "cancelled"
    assert runs.claim_next().id == made[1][0].id
    assert runs.claim_next() is None
    assert [r.id for r in runs.list(pid)] == [r.id for r, _ in reversed(made)]


def test_events_are_numbered_and_terminal_events_set_status(db):
    pid = ProjectStore(db).create("e", {})[0].id
    runs, events = stores(db)
    run, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    runs.claim_next()
    # the worker's own numbers are replaced by the run's sequence
    a = events.append(run.id, ev.RunStarted(seq=1, run_id="someone else", ts=1.5, plan=["x"]))
    b = events.append(run.id, ev.NodeMetrics(node="x", epoch=1, metrics={"loss": float("nan"), "accuracy": 0.5}))
    assert (a.seq, b.seq) == (2, 3) and a.ts == 1.5 and a.run_id == run.id
    end = events.append(run.id, ev.RunFailed(code="runtime_error", message="boom", node="x"))
    stored = runs.get(run.id)
    assert stored.status == "failed" and stored.finished_at is not None
    assert stored.error == {"code": "runtime_error", "message": "boom", "node": "x"}
    assert [e.seq for e in events.after(run.id)] == [1, 2, 3, 4]
    back = events.after(run.id, 2)
    assert back[0].metrics == {"loss": None, "accuracy": 0.5}  # NaN is not JSON: stored as null
    assert back[1] == end
    assert events.append("0000", ev.NodeLog(node="x", message="m")) is None
    with db.read() as s:
        rows = list(s.exec(select(RunEvent).where(RunEvent.run_id == run.id)))
    assert sorted(r.type for r in rows) == sorted(["run.queued", "run.started", "node.metrics", "run.failed"])


def test_events_stored_in_one_transaction_keep_the_sequence(db):
    pid = ProjectStore(db).create("b", {})[0].id
    runs, events = stores(db)
    run, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    runs.claim_next()
    assert events.append_many(run.id, []) == []
    one = events.append(run.id, ev.RunStarted(seq=7, plan=["x"]))
    batch = events.append_many(run.id, [
        ev.NodeProgress(node="x", step=i, total=3, seq=99, ts=10.0 + i) for i in range(3)
    ] + [ev.NodeMetrics(node="x", epoch=1, metrics={"loss": 0.25}), ev.RunFinished(seconds=1.0)])
    assert one.seq == 2 and [e.seq for e in batch] == [3, 4, 5, 6, 7]
    assert [e.ts for e in batch[:3]] == [10.0, 11.0, 12.0] and isinstance(batch[-1].ts, float)
    assert runs.get(run.id).status == "finished" and runs.get(run.id).last_seq == 7
    assert events.after(run.id, 2) == batch  # stored exactly as returned (and sent)
    after = events.append(run.id, ev.NodeLog(node="x", message="late"))
    assert after.seq == 8 and runs.get(run.id).status == "finished"
    assert events.append_many("0000", [ev.NodeLog(node="x", message="m")]) is None


def test_running_runs_become_interrupted(db):
    pid = ProjectStore(db).create("i", {})[0].id
    runs, events = stores(db)
    running, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    waiting, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    runs.claim_next()
    out = runs.interrupt_running()
    assert [r.id for r, _ in out] == [running.id]
    run = runs.get(running.id)
    assert run.status == "interrupted"
    assert run.error == {"code": "interrupted", "message": INTERRUPTED_MESSAGE, "node": None}
    last = events.after(running.id)[-1]
    assert (last.type, last.code, last.message) == ("run.failed", "interrupted", INTERRUPTED_MESSAGE)
    assert runs.get(waiting.id).status == "queued"  # queued runs survive and start later
    assert runs.claim_next().id == waiting.id


def test_concurrent_claims_and_appends(db):
    pid = ProjectStore(db).create("c", {})[0].id
    runs, events = stores(db)
    made = {runs.enqueue(pid, {}, ["x"], "to", None)[0].id for _ in range(12)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer():
        while (run := runs.claim_next()) is not None:
            with lock:
                claimed.append(run.id)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(made)  # every run taken exactly once

    target = claimed[0]

    def appender(i):
        for j in range(15):
            events.append(target, ev.NodeLog(node=f"w{i}", message=str(j)))

    threads = [threading.Thread(target=appender, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.seq for e in events.after(target)] == list(range(1, 62))


def test_artifacts(db):
    pid = ProjectStore(db).create("r", {})[0].id
    runs, _ = stores(db)
    artifacts = ArtifactIndex(db)
    run, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    artifacts.record(run.id, "train", "model", "/c/a/model.pt", "k1")
    artifacts.record(run.id, "train", "model", "/c/b/model.pt", "k2")
    artifacts.record("missing", "train", "model", "/c/b/model.pt", "k2")
    arts = artifacts.of_run(run.id)
    assert [(a.node, a.path, a.key) for a in arts] == [("train", "/c/b/model.pt", "k2")]
    assert artifacts.get(run.id, "train").path == "/c/b/model.pt" and artifacts.get(run.id, "x") is None
    with db.read() as s:
        assert len(list(s.exec(select(Artifact)))) == 1
        assert s.get(Run, run.id).status == "queued"

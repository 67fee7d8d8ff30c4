"""The store on SQLite and PostgreSQL: migrations, projects, versions, the run queue, events."""
from __future__ import annotations

import threading

from sqlmodel import SQLModel, select

from backend.store.models import Artifact, Result, Run, RunEvent
from backend.store.projects import ProjectStore
from backend.store.queue import INTERRUPTED_MESSAGE, RunQueue


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

    runs = RunQueue(db)
    run, _ = runs.enqueue(p.id, {}, ["a"], "to", 3)
    runs.record_artifact(run.id, "a", "model", "/x/model.pt", "k")
    assert projects.delete(p.id) is True
    assert projects.get(p.id) is None and runs.get(run.id) is None
    assert projects.versions(p.id) == [] and runs.events_after(run.id) == []
    assert projects.delete(p.id) is False


def test_queue_claims_oldest_first_and_cancels(db):
    pid = ProjectStore(db).create("q", {})[0].id
    runs = RunQueue(db)
    made = [runs.enqueue(pid, {"n": i}, [f"t{i}"], "to", None) for i in range(3)]
    first_run, first_event = made[0]
    assert first_event["type"] == "run.queued" and first_event["seq"] == 1 and first_event["targets"] == ["t0"]
    claimed = runs.claim_next()
    assert claimed.id == first_run.id and claimed.status == "running" and claimed.started_at is not None
    assert runs.cancel_queued(claimed.id) is None  # already running
    cancelled = runs.cancel_queued(made[2][0].id)
    assert cancelled["type"] == "run.cancelled" and cancelled["seq"] == 2
    assert runs.get(made[2][0].id).status == "cancelled"
    assert runs.claim_next().id == made[1][0].id
    assert runs.claim_next() is None
    assert [r.id for r in runs.list(pid)] == [r.id for r, _ in reversed(made)]


def test_events_are_numbered_and_terminal_events_set_status(db):
    pid = ProjectStore(db).create("e", {})[0].id
    runs = RunQueue(db)
    run, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    runs.claim_next()
    # the worker's own numbers are replaced by the run's sequence
    a = runs.append_event(run.id, {"type": "run.started", "seq": 1, "run_id": run.id, "ts": 1.5, "plan": ["x"]})
    b = runs.append_event(run.id, {"type": "node.metrics", "node": "x", "epoch": 1,
                                   "metrics": {"loss": float("nan"), "accuracy": 0.5}})
    assert (a["seq"], b["seq"]) == (2, 3) and a["ts"] == 1.5
    assert b["metrics"]["loss"] is None  # NaN is not JSON
    end = runs.append_event(run.id, {"type": "run.failed", "code": "runtime_error", "message": "boom", "node": "x"})
    stored = runs.get(run.id)
    assert stored.status == "failed" and stored.finished_at is not None
    assert stored.error == {"code": "runtime_error", "message": "boom", "node": "x"}
    assert [e["seq"] for e in runs.events_after(run.id)] == [1, 2, 3, 4]
    assert runs.events_after(run.id, 2) == [b, end]
    assert runs.append_event("0000", {"type": "node.log"}) is None
    with db.read() as s:
        rows = list(s.exec(select(RunEvent).where(RunEvent.run_id == run.id)))
    assert sorted(r.type for r in rows) == sorted(["run.queued", "run.started", "node.metrics", "run.failed"])


def test_events_stored_in_one_transaction_keep_the_sequence(db):
    pid = ProjectStore(db).create("b", {})[0].id
    runs = RunQueue(db)
    run, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    runs.claim_next()
    assert runs.append_events(run.id, []) == []
    one = runs.append_event(run.id, {"type": "run.started", "seq": 7, "run_id": run.id, "plan": ["x"]})
    batch = runs.append_events(run.id, [
        {"type": "node.progress", "node": "x", "step": i, "total": 3, "seq": 99, "ts": 10.0 + i} for i in range(3)
    ] + [{"type": "node.metrics", "node": "x", "epoch": 1, "metrics": {"loss": float("inf"), "pair": (1, 2)}},
         {"type": "run.finished", "seconds": 1.0}])
    assert one["seq"] == 2 and [e["seq"] for e in batch] == [3, 4, 5, 6, 7]
    assert [e["ts"] for e in batch[:3]] == [10.0, 11.0, 12.0] and isinstance(batch[-1]["ts"], float)
    assert batch[3]["metrics"] == {"loss": None, "pair": [1, 2]}
    assert runs.get(run.id).status == "finished" and runs.get(run.id).last_seq == 7
    assert runs.events_after(run.id, 2) == batch  # stored exactly as returned (and sent)
    after = runs.append_event(run.id, {"type": "node.log", "node": "x", "message": "late"})
    assert after["seq"] == 8 and runs.get(run.id).status == "finished"
    assert runs.append_events("0000", [{"type": "node.log"}]) is None


def test_running_runs_become_interrupted(db):
    pid = ProjectStore(db).create("i", {})[0].id
    runs = RunQueue(db)
    running, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    waiting, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    runs.claim_next()
    out = runs.interrupt_running()
    assert [r.id for r, _ in out] == [running.id]
    run = runs.get(running.id)
    assert run.status == "interrupted"
    assert run.error == {"code": "interrupted", "message": INTERRUPTED_MESSAGE, "node": None}
    last = runs.events_after(running.id)[-1]
    assert (last["type"], last["code"], last["message"]) == ("run.failed", "interrupted", INTERRUPTED_MESSAGE)
    assert runs.get(waiting.id).status == "queued"  # queued runs survive and start later
    assert runs.claim_next().id == waiting.id


def test_concurrent_claims_and_appends(db):
    pid = ProjectStore(db).create("c", {})[0].id
    runs = RunQueue(db)
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
            runs.append_event(target, {"type": "node.log", "node": f"w{i}", "message": str(j)})

    threads = [threading.Thread(target=appender, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e["seq"] for e in runs.events_after(target)] == list(range(1, 62))


def test_results_and_artifacts(db):
    pid = ProjectStore(db).create("r", {})[0].id
    runs = RunQueue(db)
    run, _ = runs.enqueue(pid, {}, ["x"], "to", None)
    runs.record_result("k1", "train", "training.Trainer", "/c/results/k1/k1.pt")
    runs.record_result("k1", "train", "training.Trainer", "/c/results/k1/k1.pt")
    assert runs.result("k1").component == "training.Trainer"
    runs.record_artifact(run.id, "train", "model", "/c/a/model.pt", "k1")
    runs.record_artifact(run.id, "train", "model", "/c/b/model.pt", "k2")
    runs.record_artifact("missing", "train", "model", "/c/b/model.pt", "k2")
    arts = runs.artifacts(run.id)
    assert [(a.node, a.path, a.key) for a in arts] == [("train", "/c/b/model.pt", "k2")]
    assert runs.artifact(run.id, "train").path == "/c/b/model.pt" and runs.artifact(run.id, "x") is None
    with db.read() as s:
        assert len(list(s.exec(select(Result)))) == 1 and len(list(s.exec(select(Artifact)))) == 1
        assert s.get(Run, run.id).status == "queued"

"""Graph versions on SQLite and PostgreSQL: each says what changed, and an editor's rapid saves
replace the latest version instead of piling up, unless a run used it or it is the first or a
restored one."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from backend.store.events import EventLog
from backend.store.projects import ProjectStore
from backend.store.runs import RunQueue


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def dense(units: int, *extra: dict) -> dict:
    return {"nodes": [{"id": "in", "type": "layers.Input", "params": {}},
                      {"id": "d", "type": "layers.Dense", "params": {"units": units}}, *extra],
            "edges": [], "groups": []}


def store(db) -> tuple[ProjectStore, Clock]:
    clock = Clock()
    return ProjectStore(db, clock=clock, defaults=lambda t: {"units": 32} if t == "layers.Dense" else {}), clock


def kinds(version) -> list[str]:
    return [c.kind for c in version.changes]


def test_rapid_saves_from_one_client_replace_the_latest_version(db):
    projects, clock = store(db)
    p, _ = projects.create("p", dense(32))
    assert projects.save_graph(p.id, dense(64), client="tab1").version == 2
    clock.tick(20)
    assert projects.save_graph(p.id, dense(128), client="tab1").version == 2  # replaced
    clock.tick(20)
    v = projects.save_graph(p.id, dense(128, {"id": "x", "type": "layers.Flatten"}), client="tab1")
    assert (v.version, v.saves) == (2, 3)
    assert projects.get(p.id).version == 2 and projects.latest(p.id).graph["nodes"][-1]["id"] == "x"

    history = projects.history(p.id)
    assert [h.version for h in history] == [2, 1]
    latest, first = history
    # the changes are those from version 1, whatever the saves in between
    assert kinds(latest) == ["node_added", "param_changed"] and latest.saves == 3
    assert (latest.changes[1].old, latest.changes[1].new) == (32, 128)
    assert kinds(first) == ["created"] and first.changes[0].nodes == 2
    assert latest.saved_at > latest.created_at


def test_a_save_equal_to_the_latest_stores_nothing(db):
    projects, clock = store(db)
    p, _ = projects.create("p", dense(32))
    assert projects.save_graph(p.id, dense(32), client="tab1").version == 1
    assert projects.save_graph(p.id, dense(32)).version == 2  # without a client every save is a version


def test_when_a_new_version_is_made(db):
    projects, clock = store(db)
    p, _ = projects.create("p", dense(32))
    assert projects.save_graph(p.id, dense(1), client="a").version == 2
    assert projects.save_graph(p.id, dense(2), client="b").version == 3  # another tab
    assert projects.save_graph(p.id, dense(3)).version == 4  # an API save (no client)
    assert projects.save_graph(p.id, dense(4), client="a").version == 5
    clock.tick(60)
    assert projects.save_graph(p.id, dense(5), client="a").version == 6  # a pause of a minute
    # a version keeps taking rapid saves for ten minutes at most
    for _ in range(12):
        clock.tick(50)
        projects.save_graph(p.id, dense(6 + _), client="a")
    assert projects.get(p.id).version == 7
    assert [h.saves for h in projects.history(p.id)][:2] == [1, 12]


def test_the_first_and_a_restored_version_are_never_replaced(db):
    projects, clock = store(db)
    p, _ = projects.create("p", dense(32))
    projects.save_graph(p.id, dense(64), client="a")
    restored = projects.save_graph(p.id, projects.version(p.id, 1).graph, restored_from=1)
    assert restored.version == 3
    assert projects.save_graph(p.id, dense(8), client="a").version == 4
    history = {h.version: h for h in projects.history(p.id)}
    assert kinds(history[3]) == ["restored", "param_changed"] and history[3].changes[0].version == 1
    assert (history[3].changes[1].old, history[3].changes[1].new) == (64, 32)


def test_a_version_a_run_used_is_never_rewritten(db):
    projects, clock = store(db)
    runs = RunQueue(db, EventLog(db))
    p, _ = projects.create("p", dense(32))
    v2 = projects.save_graph(p.id, dense(64), client="a")
    runs.enqueue(p.id, v2.graph, ["d"], "to", 2, version_saves=v2.saves)
    clock.tick(5)
    assert projects.save_graph(p.id, dense(65), client="a").version == 3
    assert projects.version(p.id, 2).graph == dense(64)
    assert {h.version: h.runs for h in projects.history(p.id)} == {3: 0, 2: 1, 1: 0}


def test_a_run_names_no_version_when_a_rapid_save_replaced_it_meanwhile(db):
    projects, clock = store(db)
    runs = RunQueue(db, EventLog(db))
    p, _ = projects.create("p", dense(32))
    read = projects.save_graph(p.id, dense(64), client="a")  # what the run service read
    projects.save_graph(p.id, dense(65), client="a")  # replaces version 2 before the run is stored
    run, _ = runs.enqueue(p.id, read.graph, ["d"], "to", 2, version_saves=read.saves)
    assert run.graph_version is None
    run, _ = runs.enqueue(p.id, dense(65), ["d"], "to", 2, version_saves=2)
    assert run.graph_version == 2


def test_versions_saved_before_changes_were_kept_get_them_when_listed(db):
    projects, clock = store(db)
    p, _ = projects.create("p", dense(32))
    projects.save_graph(p.id, dense(64))
    with db.engine.begin() as conn:  # as the migration leaves older rows
        conn.execute(sa.text("UPDATE graph_versions SET changes = NULL"))
    latest, first = projects.history(p.id)
    assert kinds(first) == ["created"] and kinds(latest) == ["param_changed"]


def test_the_migration_keeps_existing_versions(db_url):
    from alembic import command

    from backend.store.db import Database, alembic_config

    database = Database(db_url)
    try:
        with database.engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0002")
        with database.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO projects (id, name, version, created_at, updated_at) "
                                 "VALUES (1, 'old', 2, :t, :t)"), {"t": datetime(2026, 1, 1, tzinfo=timezone.utc)})
            for v, units in ((1, 32), (2, 64)):
                conn.execute(sa.text("INSERT INTO graph_versions (project_id, version, graph, created_at) "
                                     "VALUES (1, :v, :g, :t)"),
                             {"v": v, "g": __import__("json").dumps(dense(units)),
                              "t": datetime(2026, 1, 1, 0, v, tzinfo=timezone.utc)})
        database.migrate()
        latest, first = ProjectStore(database).history(1)
        assert (latest.saves, latest.saved_at, kinds(latest)) == (1, latest.created_at, ["param_changed"])
        assert kinds(first) == ["created"]
        # an editor's save after the upgrade never replaces a version saved before it
        assert ProjectStore(database).save_graph(1, dense(65), client="a").version == 3
    finally:
        database.dispose()

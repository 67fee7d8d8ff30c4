"""Storage that fails: a worker whose files cannot be written, a database that refuses writes.

A run whose output or events cannot be stored ends ``failed`` with a stable code
(``storage_full`` / ``storage_error``) naming the node, leaves no temporary files behind,
and the server keeps serving: the API answers a typed 503 while writes fail and recovers
by itself when they work again.
"""
from __future__ import annotations

import sqlite3

from fastapi.testclient import TestClient
from sqlalchemy import event

from api.conftest import make_settings, wait_run
from api.helpers import tiny_graph, wait_for

FILE_LIMIT = 256 * 1024   # the caches of the tiny graph fit; its trained model (~1.6 MB) does not


def new_project(c, graph) -> int:
    r = c.post("/api/projects", json={"name": "storage", "graph": graph})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def training(c, run_id: str) -> bool:
    return any(e["type"] == "node.metrics" for e in c.get(f"/api/runs/{run_id}/events").json())


def temp_files(root) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if ".tmp" in p.name)


def test_a_model_file_that_cannot_be_written_fails_the_node_with_storage_full(tmp_path, data_root):
    from backend.api.app import create_app

    settings = make_settings(tmp_path / "home", data_root, worker_max_file_bytes=FILE_LIMIT)
    graph = tiny_graph("cv")
    next(n for n in graph["nodes"] if n["id"] == "dense")["params"]["units"] = 128
    with TestClient(create_app(settings)) as c:
        pid = new_project(c, graph)
        run = c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
        done = wait_run(c, run["id"], 120)
        assert done["status"] == "failed", done
        assert done["error"]["code"] == "storage_full", done["error"]
        assert done["error"]["node"] == "train"
        events = c.get(f"/api/runs/{run['id']}/events").json()
        failed = [e for e in events if e["type"] == "node.failed"]
        assert [(e["node"], e["code"]) for e in failed] == [("train", "storage_full")]
        assert temp_files(settings.home) == [], "a partial file stayed behind"
        assert list((settings.cache_dir / "artifacts").glob("*/model.pt")) == []
        # the worker lives on: the server still answers and writes
        assert c.get("/api/health").json()["worker"]["alive"]
        assert c.post("/api/projects", json={"name": "after", "graph": graph}).status_code == 201


class FailingWrites:
    """The real database refuses writes while ``on``, as SQLite does on a full disk."""

    def __init__(self, engine) -> None:
        self.on = False
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self)

    def __call__(self, _conn, _cursor, statement, _params, _context, _executemany) -> None:
        if self.on and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError("database or disk is full")

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self)


def test_database_writes_failing_fail_the_run_and_the_api_recovers(client):
    services = client.app.state.services
    pid = new_project(client, tiny_graph("cv", epochs=1000))
    running = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
    queued = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
    wait_for(lambda: training(client, running["id"]), 90, what="training to start")

    full = FailingWrites(services.db.engine)
    try:
        full.on = True
        # API writes answer a typed 503; reads still work
        r = client.post("/api/projects", json={"name": "x", "graph": tiny_graph("cv")})
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "storage_full" and r.json()["error"]["message"]
        r = client.post(f"/api/runs/{queued['id']}/cancel")
        assert r.status_code == 503 and r.json()["error"]["code"] == "storage_full", r.text
        assert client.get(f"/api/runs/{running['id']}").json()["status"] == "running"
        # the dispatcher could not store the run's events: it stops the run and keeps trying
        # to record its failure, serving on meanwhile
        wait_for(lambda: running["id"] in services.dispatcher.unrecorded, 30, what="the run to fail")
        r = client.post(f"/api/runs/{running['id']}/cancel")
        assert r.status_code == 503 and r.json()["error"]["code"] == "storage_full", r.text
    finally:
        full.on = False   # space is back
    try:
        done = wait_run(client, running["id"], 30)
        assert done["status"] == "failed", done
        assert done["error"]["code"] == "storage_full" and done["error"]["node"] == "train", done["error"]
        # the cancel asked while the database was full is not lost
        assert wait_run(client, queued["id"], 30)["status"] == "cancelled"
        types = [e["type"] for e in client.get(f"/api/runs/{queued['id']}/events").json()]
        assert types == ["run.queued", "run.cancelled"]
        # writes work again without a restart, and runs are handed out again
        assert client.post("/api/projects", json={"name": "y", "graph": tiny_graph("cv")}).status_code == 201
        again = client.post(f"/api/projects/{pid}/runs", json={"targets": ["dataset"]}).json()
        assert wait_run(client, again["id"], 60)["status"] == "finished"
        assert not services.dispatcher.unrecorded
    finally:
        full.remove()


def test_cancel_ends_a_running_run_that_no_dispatcher_follows(tmp_path, data_root):
    """A run marked running whose dispatcher thread is gone (it hit an error) is cancelled
    at once, not left running until a restart."""
    from backend.api.app import create_app

    app = create_app(make_settings(tmp_path / "home", data_root), start_worker=False)
    with TestClient(app) as c:
        pid = new_project(c, tiny_graph("cv"))
        run = c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
        assert app.state.services.runs.claim_next().id == run["id"]   # claimed, never followed
        assert c.get(f"/api/runs/{run['id']}").json()["status"] == "running"
        r = c.post(f"/api/runs/{run['id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
        events = c.get(f"/api/runs/{run['id']}/events").json()
        assert [e["type"] for e in events] == ["run.queued", "run.cancelled"]

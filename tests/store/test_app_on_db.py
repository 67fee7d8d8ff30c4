"""The HTTP API on each database (the worker is not started: runs stay queued)."""
from __future__ import annotations

from fastapi.testclient import TestClient

from backend.settings import Settings


def test_api_on_database(db_url, tmp_path):
    from backend.api.app import create_app

    data = tmp_path / "data"
    (data / "cv" / "Cat").mkdir(parents=True)
    settings = Settings(home=tmp_path / "home", db_url=db_url, data_roots=[data])
    graph = {"nodes": [{"id": "in", "type": "layers.Input", "params": {"height": 8, "width": 8}},
                       {"id": "flat", "type": "layers.Flatten"}],
             "edges": [{"source": "in", "sourceHandle": "output", "target": "flat", "targetHandle": "input"}]}
    with TestClient(create_app(settings, start_worker=False)) as c:
        pid = c.post("/api/projects", json={"name": "db", "graph": graph}).json()["id"]
        assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph}).json() == {"version": 2}
        run = c.post(f"/api/projects/{pid}/runs", json={"targets": ["flat"]}).json()
        assert run["status"] == "queued" and run["graph_version"] == 2
        assert c.post(f"/api/runs/{run['id']}/cancel").json()["status"] == "cancelled"
        assert [e["type"] for e in c.get(f"/api/runs/{run['id']}/events").json()] == ["run.queued", "run.cancelled"]
        assert c.get("/api/runs", params={"project_id": pid}).json()[0]["id"] == run["id"]
        r = c.post("/api/projects", json={"name": "bad\u0000name"})
        assert r.status_code == 422
        assert c.delete(f"/api/projects/{pid}").status_code == 204
        assert c.get(f"/api/runs/{run['id']}").status_code == 404

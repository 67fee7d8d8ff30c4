"""Projects and numbered graph versions."""
from __future__ import annotations


def test_project_lifecycle(shared_client, graph):
    c = shared_client
    r = c.post("/api/projects", json={"name": "cats", "graph": graph})
    assert r.status_code == 201
    project = r.json()
    assert project["version"] == 1 and project["graph"]["nodes"] == graph["nodes"] or project["graph"]["nodes"]
    pid = project["id"]
    listed = c.get("/api/projects").json()
    mine = next(p for p in listed if p["id"] == pid)
    assert "graph" not in mine and mine["name"] == "cats"

    renamed = c.patch(f"/api/projects/{pid}", json={"name": "dogs"}).json()
    assert renamed["name"] == "dogs"

    graph["nodes"][0]["position"] = {"x": 5, "y": 6}
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph}).json() == {"version": 2}
    graph["nodes"][0]["position"] = {"x": 7, "y": 8}
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph}).json() == {"version": 3}
    got = c.get(f"/api/projects/{pid}").json()
    assert got["version"] == 3 and got["graph"]["nodes"][0]["position"] == {"x": 7.0, "y": 8.0}

    versions = c.get(f"/api/projects/{pid}/versions").json()
    assert [v["version"] for v in versions] == [3, 2, 1]
    v2 = c.get(f"/api/projects/{pid}/versions/2").json()
    assert v2["graph"]["nodes"][0]["position"] == {"x": 5.0, "y": 6.0}
    assert c.post(f"/api/projects/{pid}/versions/2/restore").json() == {"version": 4}
    assert c.get(f"/api/projects/{pid}").json()["graph"]["nodes"][0]["position"] == {"x": 5.0, "y": 6.0}
    assert c.get(f"/api/projects/{pid}/versions/9").status_code == 404

    assert c.delete(f"/api/projects/{pid}").status_code == 204
    r = c.get(f"/api/projects/{pid}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "project_not_found"
    assert c.delete(f"/api/projects/{pid}").status_code == 404


def test_project_from_template_and_empty(shared_client):
    c = shared_client
    p = c.post("/api/projects", json={"name": "t", "template": "model_optimization_finetuning_offline"}).json()
    assert len(p["graph"]["nodes"]) == 13
    empty = c.post("/api/projects", json={"name": "e"}).json()
    assert empty["graph"]["nodes"] == [] and empty["version"] == 1
    r = c.post("/api/projects", json={"name": "x", "template": "nope"})
    assert r.status_code == 422 and r.json()["error"] == {
        "code": "unknown_template", "message": "no template named 'nope'", "node": None, "port": None,
        "field": "template"}
    r = c.post("/api/projects", json={"name": ""})
    assert r.status_code == 422 and r.json()["error"]["field"] == "body.name"


def test_graph_keeps_editor_fields(shared_client):
    graph = {"nodes": [{"id": "a", "type": "layers.Input", "params": {}, "data": {"color": "red"}}],
             "edges": [], "viewport": {"zoom": 1.5}}
    p = shared_client.post("/api/projects", json={"name": "extra", "graph": graph}).json()
    got = shared_client.get(f"/api/projects/{p['id']}").json()["graph"]
    assert got["viewport"] == {"zoom": 1.5} and got["nodes"][0]["data"] == {"color": "red"}

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


def test_a_name_taken_gets_a_number(shared_client):
    """Two projects from the same template are told apart: the second is numbered, server side."""
    c = shared_client

    def make(name):
        return c.post("/api/projects", json={"name": name, "template": "model_optimization_finetuning"})

    first, second, third = (make("模型优化与微调 · 同名").json() for _ in range(3))
    assert [first["name"], second["name"], third["name"]] == ["模型优化与微调 · 同名", "模型优化与微调 · 同名 2",
                                                              "模型优化与微调 · 同名 3"]
    listed = {p["id"]: p["name"] for p in c.get("/api/projects").json()}
    assert listed[second["id"]] == "模型优化与微调 · 同名 2"
    # A freed number is used again; a new name is kept as it is.
    assert c.delete(f"/api/projects/{second['id']}").status_code == 204
    assert make("模型优化与微调 · 同名").json()["name"] == "模型优化与微调 · 同名 2"
    assert make("模型优化与微调 · 另一个").json()["name"] == "模型优化与微调 · 另一个"
    # LIKE's wildcards in a name are only characters, and a long name stays within 200 characters.
    assert c.post("/api/projects", json={"name": "50%_off"}).json()["name"] == "50%_off"
    assert c.post("/api/projects", json={"name": "50xyoff"}).json()["name"] == "50xyoff"
    assert c.post("/api/projects", json={"name": "50%_off"}).json()["name"] == "50%_off 2"
    long = "长" * 200
    assert c.post("/api/projects", json={"name": long}).json()["name"] == long
    numbered = c.post("/api/projects", json={"name": long}).json()["name"]
    assert numbered == "长" * 198 + " 2" and len(numbered) == 200


def test_rapid_saves_coalesce_and_versions_say_what_changed(shared_client, graph):
    """The editor names itself (`client`): its rapid saves replace the latest version, whose changes
    (from the version before) the list serves as typed items."""
    c = shared_client
    pid = c.post("/api/projects", json={"name": "rapid", "graph": graph}).json()["id"]
    dense = next(n for n in graph["nodes"] if n["id"] == "dense")
    for units in (16, 24, 32):
        dense["params"]["units"] = units
        assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph, "client": "tab-1"}).json() == {"version": 2}
    graph["nodes"].append({"id": "drop", "type": "layers.Dropout", "params": {"rate": 0.3}, "label": "丢弃"})
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph, "client": "tab-1"}).json() == {"version": 2}
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph, "client": "tab-1"}).json() == {"version": 2}
    assert c.get(f"/api/projects/{pid}").json()["version"] == 2

    versions = c.get(f"/api/projects/{pid}/versions").json()
    assert [(v["version"], v["saves"], v["runs"]) for v in versions] == [(2, 4, 0), (1, 1, 0)]
    assert versions[0]["changes"] == [
        {"kind": "node_added", "node": {"id": "drop", "type": "layers.Dropout", "label": "丢弃"}},
        {"kind": "param_changed", "node": {"id": "dense", "type": "layers.Dense", "label": None},
         "param": "units", "old": 8, "new": 32},
    ]
    assert versions[1]["changes"] == [{"kind": "created", "nodes": len(graph["nodes"]) - 1}]
    assert versions[0]["saved_at"] >= versions[0]["created_at"]
    # another editor, or a save without a client, adds a version
    graph["nodes"][-1]["position"] = {"x": 10, "y": 20}
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph, "client": "tab-2"}).json() == {"version": 3}
    assert c.get(f"/api/projects/{pid}/versions").json()[0]["changes"] == [{"kind": "layout", "nodes": 1, "groups": 0}]
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph}).json() == {"version": 4}
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph, "client": "bad id!"}).status_code == 422
    # a restore is its own version, and says which one it restored
    assert c.post(f"/api/projects/{pid}/versions/1/restore").json() == {"version": 5}
    restored = c.get(f"/api/projects/{pid}/versions").json()[0]["changes"]
    assert restored[0] == {"kind": "restored", "version": 1}
    assert {ch["kind"] for ch in restored[1:]} == {"node_removed", "param_changed"}
    dense["params"]["units"] = 9
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph, "client": "tab-1"}).json() == {"version": 6}


def test_a_version_a_run_used_is_not_rewritten(shared_client, graph):
    c = shared_client
    pid = c.post("/api/projects", json={"name": "ran", "graph": graph}).json()["id"]
    dense = next(n for n in graph["nodes"] if n["id"] == "dense")
    dense["params"]["units"] = 16
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph, "client": "tab-1"}).json() == {"version": 2}
    run = c.post(f"/api/projects/{pid}/runs", json={"targets": ["flatten"], "graph": graph}).json()
    assert run["graph_version"] == 2
    dense["params"]["units"] = 24
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph, "client": "tab-1"}).json() == {"version": 3}
    ran = c.get(f"/api/projects/{pid}/versions/2").json()["graph"]
    assert next(n for n in ran["nodes"] if n["id"] == "dense")["params"]["units"] == 16
    versions = c.get(f"/api/projects/{pid}/versions").json()
    assert [(v["version"], v["runs"]) for v in versions] == [(3, 0), (2, 1), (1, 0)]
    assert versions[0]["changes"][0]["old"] == 16 and versions[0]["changes"][0]["new"] == 24
    # the newest, not yet run, still takes rapid saves
    dense["params"]["units"] = 40
    assert c.put(f"/api/projects/{pid}/graph", json={"graph": graph, "client": "tab-1"}).json() == {"version": 3}
    assert c.post(f"/api/runs/{run['id']}/cancel").status_code == 200

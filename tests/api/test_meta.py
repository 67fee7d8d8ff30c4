"""Health, components, templates, validation, error bodies and the editor page."""
from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import make_settings


def test_health(shared_client):
    body = shared_client.get("/api/health").json()
    assert body["ok"] is True and isinstance(body["version"], str)
    worker = body["worker"]
    assert set(worker) == {"kind", "alive", "pid", "slots", "running", "address", "nodes", "error", "gpu_memory_bytes"}
    assert worker["kind"] == "local" and worker["alive"] is False   # this app starts no worker


def test_components_describe_the_registry(shared_client):
    import components
    from backend.engine import COMPATIBLE, PORT_TYPES

    body = shared_client.get("/api/components").json()
    ids = {c["id"] for c in body["components"]}
    assert ids == {c.id for c in components.registry.all()}
    dense = next(c for c in body["components"] if c["id"] == "layers.Dense")
    assert dense["name"]["en"] and dense["category"] == "layers"
    assert "properties" in dense["params_schema"] and "units" in dense["defaults"]
    assert body["categories"] == components.CATEGORIES
    assert body["port_types"] == PORT_TYPES
    assert body["compatible"] == {k: list(v) for k, v in COMPATIBLE.items()}


def test_templates(shared_client):
    listed = shared_client.get("/api/templates").json()
    ids = [t["id"] for t in listed]
    assert "model_optimization_finetuning_offline" in ids
    assert all(set(t) == {"id", "name", "description", "weights"} for t in listed)
    one = shared_client.get("/api/templates/model_optimization_finetuning_offline").json()
    assert one["graph"]["nodes"]
    missing = shared_client.get("/api/templates/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "template_not_found"


def test_validate_ok_gives_keys_and_cached(shared_client, graph):
    body = shared_client.post("/api/validate", json={"graph": graph}).json()
    assert body["ok"] is True and body["issues"] == []
    assert body["specs"]["flatten"]["output"]["shape"] == [32 * 32 * 3]
    assert set(body["keys"]) == {n["id"] for n in graph["nodes"]}
    assert body["cached"] == {n: False for n in body["keys"]}


def test_validate_reports_issues_without_keys(shared_client, graph):
    graph["nodes"][0]["params"]["height"] = -1
    graph["edges"].append({"source": "nope", "sourceHandle": "x", "target": "flatten", "targetHandle": "input"})
    body = shared_client.post("/api/validate", json={"graph": graph}).json()
    assert body["ok"] is False
    codes = {i["code"] for i in body["issues"]}
    assert {"invalid_param", "missing_node"} <= codes
    assert body["keys"] == {} and body["cached"] == {}


def test_validate_reports_paths_outside_data_roots(shared_client, graph):
    next(n for n in graph["nodes"] if n["id"] == "dataset")["params"]["root"] = "/etc"
    body = shared_client.post("/api/validate", json={"graph": graph}).json()
    assert body["ok"] is False
    issue = body["issues"][0]
    assert issue["code"] == "path_outside_data_roots" and issue["node"] == "dataset" and issue["param"] == "root"


def test_error_bodies(shared_client):
    r = shared_client.get("/api/nothing-here")
    assert r.status_code == 404 and set(r.json()["error"]) == {"code", "message", "node", "port", "field"}
    r = shared_client.post("/api/validate", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = shared_client.post("/api/validate", json={"graph": {"nodes": [{"id": "a"}]}})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] == "body.graph.nodes.0.type" and "type" in err["message"]
    r = shared_client.post("/api/validate", content=b'{"graph": {"nodes": [], "x": NaN}}',
                           headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = shared_client.delete("/api/health")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = shared_client.get("/api/projects/99999999999999999999")
    assert r.status_code == 422 and r.json()["error"]["field"] == "path.project_id"


def test_root_page_without_frontend(shared_client):
    r = shared_client.get("/")
    assert r.status_code == 200 and "npm run build" in r.text


def test_serves_built_frontend(tmp_path, data_root):
    from backend.api.app import create_app

    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<html>editor</html>")
    app = create_app(make_settings(tmp_path / "home", data_root, frontend_dir=dist), start_worker=False)
    with TestClient(app) as c:
        assert c.get("/").text == "<html>editor</html>"
        assert c.get("/api/health").json()["ok"] is True
        assert c.get("/api/missing").json()["error"]["code"] == "not_found"

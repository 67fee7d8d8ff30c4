"""Runs against the real app: queue, worker, events, artifacts, predictions, data roots."""
from __future__ import annotations

import os

import pytest

from .conftest import wait_run
from .helpers import jpeg_bytes, tiny_graph, wait_for


def new_project(client, graph) -> int:
    return client.post("/api/projects", json={"name": "p", "graph": graph}).json()["id"]


def test_run_trains_and_serves_artifacts_and_predictions(client, graph, settings):
    pid = new_project(client, graph)
    r = client.post(f"/api/projects/{pid}/runs", json={"targets": ["evaluate"], "mode": "to"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] in ("queued", "running") and run["graph_version"] == 1 and run["project_id"] == pid
    final = wait_run(client, run["id"])
    assert final["status"] == "finished", final
    assert final["started_at"] and final["finished_at"] and final["error"] is None

    events = client.get(f"/api/runs/{run['id']}/events").json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "run.queued" and events[-1]["type"] == "run.finished"
    assert all(e["run_id"] == run["id"] and isinstance(e["ts"], float) for e in events)
    assert any(e["type"] == "node.metrics" and e["node"] == "train" for e in events)
    later = client.get(f"/api/runs/{run['id']}/events", params={"after": 3}).json()
    assert later == events[3:]

    artifacts = client.get(f"/api/runs/{run['id']}/artifacts").json()
    assert [(a["node"], a["kind"]) for a in artifacts] == [("train", "model")]
    assert artifacts[0]["url"] == f"/api/runs/{run['id']}/artifacts/train/model"
    model = client.get(artifacts[0]["url"])
    assert model.status_code == 200 and model.headers["content-type"] == "application/octet-stream"
    assert 'filename="train.pt"' in model.headers["content-disposition"]
    assert model.content == open(artifacts[0]["path"], "rb").read()
    assert client.get(f"/api/runs/{run['id']}/artifacts/dense/model").json()["error"]["code"] == "no_model"

    pred = client.post(f"/api/runs/{run['id']}/predict", params={"node": "train"},
                       files={"file": ("x.jpg", jpeg_bytes(), "image/jpeg")})
    assert pred.status_code == 200, pred.text
    body = pred.json()
    assert body["class"] in ("cat", "dog") and set(body["probabilities"]) == {"cat", "dog"}
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-5 and body["probability"] >= 0.5

    bad = client.post(f"/api/runs/{run['id']}/predict", params={"node": "train"},
                      files={"file": ("x.jpg", b"definitely not an image", "image/jpeg")})
    assert bad.status_code == 415
    assert bad.json()["error"]["code"] == "not_an_image" and bad.json()["error"]["field"] == "file"

    # The same graph validates as "from cache" now, and a re-run serves the trainer from the cache.
    check = client.post("/api/validate", json={"graph": graph}).json()
    assert check["cached"]["train"] is True and check["cached"]["dense"] is False
    again = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
    assert wait_run(client, again["id"])["status"] == "finished"
    types = [(e["type"], e.get("node")) for e in client.get(f"/api/runs/{again['id']}/events").json()]
    assert ("node.cached", "train") in types
    assert client.get(f"/api/runs/{again['id']}/artifacts").json()[0]["node"] == "train"

    # The run's summary: its events reduced by the server (the editor reduces the same way).
    summary = client.get(f"/api/runs/{again['id']}/summary").json()
    assert summary["status"] == "finished" and summary["nodes"]["train"]["state"] == "cached"
    model = summary["nodes"]["train"]["summary"]["model"]
    assert model["kind"] == "model" and model["epochs"] == len(summary["metrics"]["train"])
    assert os.path.exists(model["model_file"])
    assert client.app.state.services.results.has(summary["nodes"]["train"]["key"])

    listed = client.get("/api/runs", params={"project_id": pid}).json()
    assert [r["id"] for r in listed] == [again["id"], run["id"]]


def test_upload_size_limit(tmp_path, data_root):
    from fastapi.testclient import TestClient

    from backend.api.app import create_app

    from .conftest import make_settings

    app = create_app(make_settings(tmp_path / "home", data_root, max_upload_bytes=1000), start_worker=False)
    with TestClient(app) as c:
        r = c.post("/api/runs/abc/predict", params={"node": "train"},
                   files={"file": ("x.jpg", b"x" * 5000, "image/jpeg")})
        assert r.status_code == 413 and r.json()["error"]["code"] == "upload_too_large"
        r = c.post("/api/runs/abc/predict", params={"node": "train"},
                   files={"file": ("x.jpg", b"x" * 100, "image/jpeg")})
        assert r.status_code == 404 and r.json()["error"]["code"] == "run_not_found"


def test_invalid_graph_is_not_run(shared_client, graph):
    graph["nodes"][0]["params"]["height"] = 0
    pid = new_project(shared_client, graph)
    r = shared_client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"]["code"] == "invalid_param" and body["error"]["node"] == "input"
    assert body["error"]["field"] == "height" and len(body["issues"]) >= 1
    r = shared_client.post(f"/api/projects/{pid}/runs", json={"targets": ["nope"], "graph": tiny_graph("cv")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_target"
    assert r.json()["error"]["node"] == "nope"
    r = shared_client.post(f"/api/projects/{pid}/runs", json={"targets": [], "mode": "node"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "targets"
    r = shared_client.post("/api/projects/123456/runs", json={"targets": ["train"]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "project_not_found"
    assert shared_client.get("/api/runs/0123abcd").json()["error"]["code"] == "run_not_found"


@pytest.mark.parametrize("where", ["dotdot", "absolute", "symlink", "weights"])
def test_paths_outside_data_roots_are_refused(shared_client, data_root, tmp_path, where):
    outside = tmp_path / "outside"
    outside.mkdir()
    graph = tiny_graph("cv", backbone=where == "weights")
    node, field, value = "dataset", "root", None
    if where == "dotdot":
        value = "../" * 8 + "etc"
    elif where == "absolute":
        value = str(outside)
    elif where == "symlink":
        link = data_root / f"link-{os.getpid()}"
        if not link.exists():
            link.symlink_to(outside, target_is_directory=True)
        value = link.name
    else:
        node, field = "backbone", "weights_file"
        graph_node = next(n for n in graph["nodes"] if n["id"] == "backbone")
        graph_node["params"]["weights"] = "file"
        value = str(outside / "weights.pt")
    next(n for n in graph["nodes"] if n["id"] == node)["params"][field] = value
    pid = new_project(shared_client, graph)
    r = shared_client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert (err["code"], err["node"], err["field"]) == ("path_outside_data_roots", node, field)
    assert "data root" in err["message"]


def test_relative_path_inside_a_root_runs(shared_client, data_root):
    graph = tiny_graph(str(data_root / "cv" / ".." / "cv"))
    pid = new_project(shared_client, graph)
    r = shared_client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"})
    assert r.status_code == 201
    stored = shared_client.app.state.services.runs.get(r.json()["id"])
    root = next(n for n in stored.graph["nodes"] if n["id"] == "dataset")["params"]["root"]
    assert root == str((data_root / "cv").resolve())
    assert stored.graph_version == 1


def test_cancel_then_stop_the_server_mid_run(settings):
    """Cancel a queued and a running run; then stop the server while a run executes: that
    run is interrupted, a queued one waits for the next start, and the worker is gone."""
    from fastapi.testclient import TestClient

    from backend.api.app import create_app
    from backend.store.runs import INTERRUPTED_MESSAGE

    def training(c, run_id):
        return any(e["type"] == "node.metrics" for e in c.get(f"/api/runs/{run_id}/events").json())

    app = create_app(settings)
    with TestClient(app) as c:
        pid = new_project(c, tiny_graph("cv", epochs=1000))
        first = c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
        second = c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
        # the second waits behind the first: cancelling it is immediate
        assert c.post(f"/api/runs/{second['id']}/cancel").json()["status"] == "cancelled"
        wait_for(lambda: training(c, first["id"]), 60, what="training to start")
        assert c.post(f"/api/runs/{first['id']}/cancel").json()["status"] == "running"
        assert wait_run(c, first["id"], 60)["status"] == "cancelled"
        assert c.get(f"/api/runs/{first['id']}/events").json()[-1]["type"] == "run.cancelled"
        assert [e["type"] for e in c.get(f"/api/runs/{second['id']}/events").json()] == \
            ["run.queued", "run.cancelled"]
        # cancelling a finished run changes nothing
        assert c.post(f"/api/runs/{first['id']}/cancel").json()["status"] == "cancelled"

        third = c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
        fourth = c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
        wait_for(lambda: training(c, third["id"]), 60, what="training to start")
        worker_pid = c.get("/api/health").json()["worker"]["pid"]
    runs = app.state.services.runs
    run = runs.get(third["id"])
    assert run.status == "interrupted" and run.error["message"] == INTERRUPTED_MESSAGE
    assert runs.get(fourth["id"]).status == "queued"  # it starts with the next server
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)


def test_path_resolution_rules(tmp_path):
    from backend.runs.paths import resolve_path

    data, other = tmp_path / "data", tmp_path / "other"
    (data / "cats_vs_dogs").mkdir(parents=True)
    (other / "photos").mkdir(parents=True)
    roots = [other, data]
    assert resolve_path("photos", roots) == (other / "photos").resolve()
    # the templates' data/cats_vs_dogs finds cats_vs_dogs in a root named data
    assert resolve_path("data/cats_vs_dogs", roots) == (data / "cats_vs_dogs").resolve()
    assert resolve_path("new-folder", roots) == (other / "new-folder").resolve()  # first root
    assert resolve_path(str(data / "cats_vs_dogs"), roots) == (data / "cats_vs_dogs").resolve()
    assert resolve_path("../data/../../x", roots) is None
    assert resolve_path(str(tmp_path), roots) is None
    (data / "escape").symlink_to(tmp_path)
    assert resolve_path("escape", roots) is None

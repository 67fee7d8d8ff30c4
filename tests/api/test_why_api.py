"""Why it ran through the API: the dry run (POST /api/projects/{id}/plan), a run's run.started
reasons, and the index the dispatcher keeps of which run made which result."""
from __future__ import annotations

from .conftest import wait_run


def test_plan_then_run_then_plan_again_says_why(client, graph):
    pid = client.post("/api/projects", json={"name": "why", "graph": graph}).json()["id"]
    preview = client.post(f"/api/projects/{pid}/plan", json={"targets": ["train"], "mode": "to"})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["run"] == body["order"] and {w["reason"] for w in body["why"].values()} == {"new"}
    assert client.get("/api/runs", params={"project_id": pid}).json() == []   # nothing was queued

    run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
    assert wait_run(client, run["id"])["status"] == "finished"
    summary = client.get(f"/api/runs/{run['id']}/summary").json()
    assert summary["why"]["train"]["reason"] == "new" and summary["why"]["train"]["runs"] is True

    changed = {**graph, "nodes": [{**n, "params": {**n["params"], "epochs": 2}} if n["id"] == "train" else n
                                  for n in graph["nodes"]]}
    body = client.post(f"/api/projects/{pid}/plan", json={"targets": ["train"], "mode": "to", "graph": changed}).json()
    train = body["why"]["train"]
    assert train["reason"] == "changed" and train["previous"]["run_id"] == run["id"]
    assert [(c["what"], c["param"], c["old"], c["new"]) for c in train["changes"]] == [("param", "epochs", 1, 2)]
    same = client.post(f"/api/projects/{pid}/plan", json={"targets": ["train"], "mode": "to"}).json()
    assert same["run"] == [] and same["cached"][-1] == "train"
    assert same["why"]["train"]["origin"]["run_id"] == run["id"]

    # another project's first run of the same graph: cached, from the first project's run
    other = client.post("/api/projects", json={"name": "why 2", "graph": graph}).json()["id"]
    again = client.post(f"/api/projects/{other}/runs", json={"targets": ["train"], "mode": "to"}).json()
    assert wait_run(client, again["id"])["status"] == "finished"
    events = client.get(f"/api/runs/{again['id']}/events").json()
    started = next(e for e in events if e["type"] == "run.started")
    assert started["why"]["train"]["origin"]["run_id"] == run["id"]
    # the nodes before the stored trainer are reported cached too (made by the first run), not "not run"
    cached = {e["node"] for e in events if e["type"] == "node.cached"}
    assert {"dense", "input", "train"} <= cached, cached
    assert started["why"]["dense"]["needed"] is False

    bad = client.post(f"/api/projects/{pid}/plan", json={"targets": ["nope"], "mode": "to"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_target"

"""The cache's budget through the studio: GET /api/cache, POST /api/cache/prune, and what a
person meets afterwards: a model download that says its file was removed for the budget, a
plan that says "evicted", and a run that makes it again."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from .conftest import make_settings, wait_run


@pytest.fixture
def slow_client(tmp_path, data_root):
    """Nothing counts as used lately (so a prune may remove all), and trainers sleep per batch."""
    from backend.api.app import create_app

    settings = make_settings(tmp_path / "home", data_root, cache_keep_recent_s=0, train_step_delay_s=0.4)
    with TestClient(create_app(settings)) as c:
        yield c


def test_prune_removes_models_last_and_the_studio_says_so(slow_client, graph):
    client = slow_client
    pid = client.post("/api/projects", json={"name": "budget", "graph": graph}).json()["id"]
    run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()

    # while it runs, a prune waits for it (nothing a run reads disappears under it)
    deadline = time.monotonic() + 60
    while client.get(f"/api/runs/{run['id']}").json()["status"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
    busy = client.post("/api/cache/prune", json={"max_gb": 0.000001})
    assert busy.status_code == 409, busy.text
    assert busy.json()["error"]["code"] == "runs_active" and run["id"] in busy.json()["error"]["message"]
    assert wait_run(client, run["id"])["status"] == "finished"

    usage = client.get("/api/cache").json()
    assert usage["entries"] >= 3 and usage["models"] == 1 and usage["bytes"] > usage["model_bytes"] > 0
    assert usage["max_bytes"] == 20 * 2**30 and usage["free_bytes"] > 0 and usage["last_prune"] is None
    # the studio's own budget (20 GB) removed nothing after the run
    assert client.get(f"/api/runs/{run['id']}/artifacts/train/model").status_code == 200
    listed = client.get(f"/api/runs/{run['id']}/artifacts").json()
    assert [(a["present"], a["evicted_at"]) for a in listed] == [(True, None)]

    # "free up space": everything but the trained model
    kept = client.post("/api/cache/prune", json={"max_gb": 0.000001, "keep_models": True}).json()
    assert kept["removed"] == usage["entries"] - 1 and kept["removed_models"] == 0
    assert client.get("/api/cache").json()["models"] == 1
    assert client.get(f"/api/runs/{run['id']}/artifacts/train/model").status_code == 200
    usage = client.get("/api/cache").json()

    report = client.post("/api/cache/prune", json={"max_gb": 0.000001}).json()   # about 1 KB: everything goes
    assert report["why"] == "size" and report["removed"] == usage["entries"] and report["removed_models"] == 1
    assert report["bytes_after"] == 0 and report["short_bytes"] == 0
    after = client.get("/api/cache").json()
    assert after["entries"] == 0 and after["last_prune"]["removed"] == report["removed"]

    listed = client.get(f"/api/runs/{run['id']}/artifacts").json()
    assert [(a["node"], a["present"]) for a in listed] == [("train", False)]
    assert listed[0]["evicted_at"] >= report["at"] - 1
    gone = client.get(f"/api/runs/{run['id']}/artifacts/train/model")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "model_evicted"
    assert gone.json()["error"]["node"] == "train" and "budget" in gone.json()["error"]["message"]

    plan = client.post(f"/api/projects/{pid}/plan", json={"targets": ["train"], "mode": "to"}).json()
    assert plan["why"]["train"]["reason"] == "evicted" and plan["why"]["train"]["evicted"] >= report["at"] - 1
    again = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
    assert wait_run(client, again["id"])["status"] == "finished"
    started = next(e for e in client.get(f"/api/runs/{again['id']}/events").json() if e["type"] == "run.started")
    assert started["why"]["train"]["reason"] == "evicted" and started["why"]["train"]["runs"] is True
    assert client.get(f"/api/runs/{again['id']}/artifacts/train/model").status_code == 200
    # made again: the next plan serves it from the cache
    assert client.post(f"/api/projects/{pid}/plan", json={"targets": ["train"], "mode": "to"}).json()["run"] == []

    for wrong in (-1, 1e7):   # a size limit from 0 to a petabyte: always a whole number of bytes
        bad = client.post("/api/cache/prune", json={"max_gb": wrong})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "body.max_gb", bad.text


def test_a_prune_may_take_what_was_used_lately_since_no_run_goes_on(client, graph):
    pid = client.post("/api/projects", json={"name": "recent", "graph": graph}).json()["id"]
    run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
    assert wait_run(client, run["id"])["status"] == "finished"
    entries = client.get("/api/cache").json()["entries"]
    # the studio's keep_recent_s (600 s) keeps all of it ...
    assert client.post("/api/cache/prune", json={"max_gb": 0.000001}).json()["removed"] == 0
    # ... unless asked otherwise: "free up space" in the editor
    freed = client.post("/api/cache/prune", json={"max_gb": 0.000001, "keep_recent_s": 0, "keep_models": True}).json()
    assert freed["removed"] == entries - 1 and client.get("/api/cache").json()["models"] == 1

"""Stopping: a graceful shutdown leaks nothing, and a run cut off by a dead worker or a
stopping server names the node that was running."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from api.conftest import make_settings, wait_run
from api.helpers import REPO, free_port, tiny_graph, wait_for


def new_project(c, graph) -> int:
    r = c.post("/api/projects", json={"name": "stop", "graph": graph})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def training(c, run_id: str) -> bool:
    return any(e["type"] == "node.metrics" for e in c.get(f"/api/runs/{run_id}/events").json())


@pytest.mark.parametrize("sig, run", [(signal.SIGTERM, True), (signal.SIGINT, False)], ids=["sigterm-after-a-run",
                                                                                          "sigint-idle"])
def test_graceful_shutdown_leaks_no_semaphores(tmp_path, data_root, sig, run):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--home", str(tmp_path / "home"), "--port", str(port),
         "--data-root", str(data_root), "--log-level", "warning"],
        cwd=REPO, env={**os.environ, "ABACUS_PROGRESS_COALESCE_S": "0"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

    def ready():
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {proc.communicate()}")
        try:
            return http.get("/api/health").json()["worker"]["alive"]
        except httpx.HTTPError:
            return None

    try:
        wait_for(ready, 60, 0.2, "the server to answer")
        if run:
            pid = http.post("/api/projects", json={"name": "s", "graph": tiny_graph("cv")}).json()["id"]
            started = http.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
            final = wait_for(lambda: (r := http.get(f"/api/runs/{started['id']}").json())["status"]
                             not in ("queued", "running") and r, 90, what="the run to end")
            assert final["status"] == "finished", final
        t0 = time.monotonic()
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        http.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # uvicorn shuts down cleanly, then re-raises SIGTERM to report it; Ctrl-C ends quietly
    assert proc.returncode in (0, -sig, 128 + sig), err
    assert "leaked semaphore" not in err, err
    assert "Traceback" not in err, err
    assert took < 15, f"the shutdown took {took:.1f}s"


def test_worker_death_and_a_stopping_server_name_the_running_node(settings):
    from backend.api.app import create_app

    # no automatic resume here: the second run must start at once (tests/faults/test_resume.py covers it)
    app = create_app(settings.model_copy(update={"auto_resume": 0}))
    with TestClient(app) as c:
        pid = new_project(c, tiny_graph("cv", epochs=1000))
        first = c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
        wait_for(lambda: training(c, first["id"]), 90, what="training to start")
        os.kill(c.get("/api/health").json()["worker"]["pid"], signal.SIGKILL)
        died = wait_run(c, first["id"], 30)
        assert died["status"] == "failed" and died["error"]["code"] == "worker_died", died
        assert died["error"]["node"] == "train"
        last = c.get(f"/api/runs/{first['id']}/events").json()[-1]
        assert (last["type"], last["code"], last["node"]) == ("run.failed", "worker_died", "train")

        second = c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()
        wait_for(lambda: training(c, second["id"]), 90, what="training to start again")
    run = app.state.services.runs.get(second["id"])   # the server stopped during the training
    assert run.status == "interrupted"
    assert run.error["code"] == "interrupted" and run.error["node"] == "train", run.error


def test_a_run_cut_off_by_a_killed_server_names_its_node_at_the_next_start(tmp_path, data_root):
    """The next start marks a run left 'running' interrupted, naming the node it was in."""
    from backend.api.app import create_app
    from backend.engine import events as ev

    settings = make_settings(tmp_path / "home", data_root)
    app = create_app(settings, start_worker=False)
    with TestClient(app) as c:
        pid = new_project(c, tiny_graph("cv"))
        run_id = c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()["id"]
        services = app.state.services
        services.runs.claim_next()
        services.events.append_many(run_id, [ev.RunStarted(plan=["dataset", "train"]), ev.NodeStarted(node="dataset"),
                                             ev.NodeFinished(node="dataset", key="k"), ev.NodeStarted(node="train")])
    with TestClient(create_app(settings, start_worker=False)) as c:   # as if the server had been killed
        run = c.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "interrupted"
        assert run["error"]["code"] == "interrupted" and run["error"]["node"] == "train", run["error"]

"""Resume instead of restart: a training killed in its third epoch (its worker with SIGKILL, or
the whole server) continues from its last checkpoint and ends with the per-epoch metrics of an
uninterrupted run with the same seed; a worker death is resumed by the studio itself once, and
a crash that repeats leaves the run failed with resume offered."""
from __future__ import annotations

import os
import signal

import pytest
from fastapi.testclient import TestClient

from api.conftest import make_settings, wait_run
from api.helpers import free_port, resume_graph, wait_for
from api.test_restart import ServerProcess, pid_alive

EPOCHS = 5
DELAY_S = 0.35   # after each of the 4 batches of an epoch: an epoch of ~1.5 s, long enough to be cut


@pytest.fixture(scope="module")
def reference(tmp_path_factory, data_root) -> list[dict]:
    """The uninterrupted run's metrics, epoch by epoch (the worker's code, in this process)."""
    import components
    from backend.engine import MemoryCache
    from backend.runs import RunService
    from backend.store.artifacts import FileResultStore
    from backend.worker.execution import execute_prepared

    home = tmp_path_factory.mktemp("reference")
    settings = make_settings(home, data_root)
    store = FileResultStore(settings.cache_dir)
    service = RunService(components.registry, store, data_roots=settings.data_roots,
                         worker_settings=settings.run_settings())
    events: list[dict] = []
    status = execute_prepared(service.prepare(resume_graph("cv", EPOCHS), ["train"], "to", run_id="ref"), store,
                              MemoryCache(), events.append, lambda: False)
    assert status == "finished"
    metrics = [e for e in events if e["type"] == "node.metrics" and e["node"] == "train"]
    assert [m["epoch"] for m in metrics] == list(range(1, EPOCHS + 1))
    return metrics


def train_metrics(get, run_id: str) -> list[dict]:
    return [e for e in get(f"/api/runs/{run_id}/events").json() if e["type"] == "node.metrics" and e["node"] == "train"]


def wait_trained(get, run_id: str, epoch: int) -> list[dict]:
    """Until ``run_id`` has trained ``epoch`` itself (not re-sent from a checkpoint)."""
    return wait_for(lambda: [m for m in train_metrics(get, run_id) if not m["resumed"] and m["epoch"] >= epoch],
                    90, 0.05, f"epoch {epoch} of run {run_id}")


def check_same_curves(get, run_id: str, reference: list[dict], resumed_epochs: int) -> None:
    """The resumed run's curve is the whole training, equal to the uninterrupted run's."""
    sent = train_metrics(get, run_id)
    assert [(m["epoch"], m["resumed"]) for m in sent] == \
        [(e, e <= resumed_epochs) for e in range(1, EPOCHS + 1)]
    curve = get(f"/api/runs/{run_id}/summary").json()["metrics"]["train"]
    assert [p["epoch"] for p in curve] == list(range(1, EPOCHS + 1))
    for point, want in zip(curve, reference):
        for name, value in want["metrics"].items():
            assert point["metrics"][name] == pytest.approx(value, abs=1e-4), (point["epoch"], name)
    for m, want in zip(sent, reference):
        assert m["best_epoch"] == want["best_epoch"]


def completed_epochs(get, run_id: str) -> int:
    done = [m["epoch"] for m in train_metrics(get, run_id)]
    return max(done) if done else 0


def test_a_killed_worker_is_resumed_once_then_by_hand(tmp_path, data_root, reference):
    from backend.api.app import create_app

    settings = make_settings(tmp_path / "home", data_root, train_step_delay_s=DELAY_S)
    with TestClient(create_app(settings)) as client:
        get = client.get
        project = client.post("/api/projects",
                              json={"name": "resume", "graph": resume_graph("cv", EPOCHS)}).json()["id"]
        first = client.post(f"/api/projects/{project}/runs", json={"targets": ["train"]}).json()
        wait_trained(get, first["id"], 2)
        worker = get("/api/health").json()["worker"]["pid"]
        os.kill(worker, signal.SIGKILL)   # in its third epoch
        ended = wait_run(client, first["id"])
        assert (ended["status"], ended["error"]["code"], ended["error"]["node"]) == ("failed", "worker_died", "train")
        cut = completed_epochs(get, first["id"])
        assert 2 <= cut <= 3   # (3: the kill came late, after the third epoch's checkpoint)

        # the studio resumes it by itself, once
        auto = wait_for(lambda: next((r for r in get("/api/runs", params={"project_id": project}).json()
                                      if r["resumed_from"] == first["id"]), None), 30, 0.1, "the automatic resume")
        assert auto["auto_resumes"] == 1 and auto["targets"] == ["train"]
        queued = get(f"/api/runs/{auto['id']}/events").json()[0]
        assert (queued["type"], queued["resumed_from"]) == ("run.queued", first["id"])
        wait_trained(get, auto["id"], cut + 1)
        resent = [m for m in train_metrics(get, auto["id"]) if m["resumed"]]
        assert [m["epoch"] for m in resent] == list(range(1, cut + 1))
        worker = wait_for(lambda: (w := get("/api/health").json()["worker"])["alive"] and w["pid"], 30)
        os.kill(worker, signal.SIGKILL)   # the crash repeats
        ended = wait_run(client, auto["id"])
        assert (ended["status"], ended["error"]["code"]) == ("failed", "worker_died")
        cut = completed_epochs(get, auto["id"])
        assert cut < EPOCHS

        # ... so it stays failed, and a person resumes it
        wait_for(lambda: get("/api/health").json()["worker"]["alive"], 30, what="the new worker")
        assert not [r for r in get("/api/runs", params={"project_id": project}).json()
                    if r["resumed_from"] == auto["id"]], "a crash that repeats must not loop"
        answer = client.post(f"/api/runs/{auto['id']}/resume")
        assert answer.status_code == 201, answer.text
        resumed = answer.json()
        assert (resumed["resumed_from"], resumed["auto_resumes"]) == (auto["id"], 0)
        again = client.post(f"/api/runs/{auto['id']}/resume")   # one resume at a time
        assert (again.status_code, again.json()["error"]["code"]) == (409, "not_resumable")
        assert wait_run(client, resumed["id"])["status"] == "finished"
        check_same_curves(get, resumed["id"], reference, cut)

        finished = client.post(f"/api/runs/{resumed['id']}/resume")
        assert (finished.status_code, finished.json()["error"]["code"]) == (409, "not_resumable")
        assert client.post("/api/runs/ffff/resume").status_code == 404


def test_a_run_interrupted_by_a_server_restart_resumes(tmp_path, data_root, reference, monkeypatch):
    monkeypatch.setenv("ABACUS_TRAIN_STEP_DELAY_S", str(DELAY_S))
    home, port = tmp_path / "home", free_port()
    server = ServerProcess(home, data_root, port)
    try:
        worker = server.wait_ready()["worker"]["pid"]
        http = server.http
        project = http.post("/api/projects",
                            json={"name": "restart", "graph": resume_graph("cv", EPOCHS)}).json()["id"]
        run = http.post(f"/api/projects/{project}/runs", json={"targets": ["train"]}).json()
        wait_trained(http.get, run["id"], 2)
        server.stop(signal.SIGKILL)   # in the third epoch
        wait_for(lambda: not pid_alive(worker), 15, what="the orphaned worker to exit")
    finally:
        server.stop(signal.SIGKILL)

    server = ServerProcess(home, data_root, port)
    try:
        server.wait_ready()
        http = server.http
        cut = http.get(f"/api/runs/{run['id']}").json()
        assert (cut["status"], cut["error"]["code"], cut["error"]["node"]) == ("interrupted", "interrupted", "train")
        done = completed_epochs(http.get, run["id"])
        answer = http.post(f"/api/runs/{run['id']}/resume")
        assert answer.status_code == 201, answer.text
        resumed = answer.json()
        final = wait_for(lambda: (r := http.get(f"/api/runs/{resumed['id']}").json())["status"]
                         not in ("queued", "running") and r, 90, what="the resumed run")
        assert final["status"] == "finished", final
        # the orphan may have completed one more epoch before it noticed: the checkpoint says which
        log = [e for e in http.get(f"/api/runs/{resumed['id']}/events").json()
               if e["type"] == "node.log" and e["code"] == "training_resumed"]
        assert len(log) == 1 and done <= log[0]["params"]["epoch"] < EPOCHS
        check_same_curves(http.get, resumed["id"], reference, log[0]["params"]["epoch"])
    finally:
        server.stop(signal.SIGTERM)
    assert "Traceback" not in server.output()

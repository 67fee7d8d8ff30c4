"""Comparing runs (the run table, the graph differences) and the MLflow export, on real runs."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import make_settings, wait_run
from .helpers import tiny_graph


@pytest.fixture
def mlflow_client(tmp_path, data_root):
    """The real app with the MLflow export set to a file store in tmp_path."""
    from backend.api.app import create_app

    uri = (tmp_path / "mlruns").as_uri()
    with TestClient(create_app(make_settings(tmp_path / "home", data_root, mlflow_tracking_uri=uri))) as c:
        yield c, uri


def _run(client, pid: int, graph: dict | None = None) -> dict:
    if graph is not None:
        client.put(f"/api/projects/{pid}/graph", json={"graph": graph})
    run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["evaluate"], "mode": "to"}).json()
    final = wait_run(client, run["id"])
    assert final["status"] == "finished", final
    return final


def test_run_table_changes_and_mlflow_export(mlflow_client):
    from backend.runs.mlflow_export import _mlflow

    MlflowClient = _mlflow()[0]   # under the export's lock: the studio may be importing mlflow in a thread
    client, uri = mlflow_client
    first = tiny_graph("cv", epochs=2)
    pid = client.post("/api/projects", json={"name": "Cats 猫", "graph": first}).json()["id"]
    a = _run(client, pid)
    second = tiny_graph("cv", epochs=3)
    next(n for n in second["nodes"] if n["id"] == "optimizer")["params"]["learning_rate"] = 0.001
    next(n for n in second["nodes"] if n["id"] == "dense")["position"] = {"x": 1, "y": 2}   # layout only
    b = _run(client, pid, second)

    rows = client.get(f"/api/projects/{pid}/runs").json()
    assert [r["id"] for r in rows] == [b["id"], a["id"]]
    assert [r["graph_version"] for r in rows] == [2, 1]
    summaries = {r["id"]: client.get(f"/api/runs/{r['id']}/summary").json() for r in rows}
    for row in rows:
        summary = summaries[row["id"]]
        assert row["status"] == "finished" and row["seconds"] == summary["seconds"] > 0
        [trainer] = row["trainers"]
        model = summary["nodes"]["train"]["summary"]["model"]
        assert trainer["node"] == "train" and trainer["epochs"] == model["epochs"]
        assert trainer["best_epoch"] == model["best_epoch"]
        point = next(p for p in summary["metrics"]["train"] if p["epoch"] == model["best_epoch"])
        assert trainer["metrics"] == point["metrics"] and "val_accuracy" in trainer["metrics"]
        [evaluation] = row["evaluations"]
        report = next(s for s in summary["nodes"]["evaluate"]["summary"].values() if s["kind"] == "evaluation")
        assert evaluation["accuracy"] == report["accuracy"] and evaluation["split"] == report["split"]
    assert [r["trainers"][0]["epochs"] for r in rows] == [3, 2]

    changes = client.get(f"/api/runs/{b['id']}/changes", params={"against": a["id"]}).json()
    assert sorted((c["kind"], c["node"]["id"], c["param"], c["old"], c["new"]) for c in changes) == [
        ("param_changed", "optimizer", "learning_rate", 2e-5, 1e-3), ("param_changed", "train", "epochs", 2, 3)]
    assert client.get(f"/api/runs/{a['id']}/changes", params={"against": a["id"]}).json() == []
    assert client.get(f"/api/runs/{a['id']}/changes", params={"against": "ffff"}).status_code == 404
    assert client.get("/api/projects/999999/runs").status_code == 404

    # MLflow: one run per trainer, in an experiment named after the project, read back by MLflow itself
    ml = MlflowClient(tracking_uri=uri)
    experiment = ml.get_experiment_by_name("Cats 猫")
    assert experiment is not None
    found = ml.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["abacus.run_id"] for r in found) == sorted([a["id"], b["id"]])
    for mlrun in found:
        run_id = mlrun.data.tags["abacus.run_id"]
        summary = summaries[run_id]
        assert mlrun.data.tags["abacus.node"] == "train" and mlrun.info.status == "FINISHED"
        params = mlrun.data.params
        assert params["epochs"] == str(3 if run_id == b["id"] else 2) and params["batch_size"] == "4"
        assert float(params["optimizer.learning_rate"]) == (1e-3 if run_id == b["id"] else 2e-5)
        assert params["dataset.root"].endswith("cv") and params["component"] == "training.Trainer"
        curve = summary["metrics"]["train"]
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            history = ml.get_metric_history(mlrun.info.run_id, name)
            assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == \
                [(p["epoch"], p["metrics"][name]) for p in curve]
        [artifact] = ml.list_artifacts(mlrun.info.run_id, "model")
        model_file = summary["nodes"]["train"]["summary"]["model"]["model_file"]
        assert artifact.path.startswith("model/") and artifact.file_size == __import__("os").path.getsize(model_file)
    events = client.get(f"/api/runs/{a['id']}/events").json()
    [line] = [e for e in events if e["type"] == "node.log" and e["code"] == "mlflow_exported"]
    assert line["node"] == "train" and line["params"]["experiment"] == "Cats 猫"
    assert events[-1]["type"] == "run.finished"


def test_mlflow_failure_is_a_warning_not_a_failed_run(tmp_path, data_root):
    """A tracking URI that cannot be written (a file where the store's folder should be): the run
    finishes, and the trainer has a warning line with a code."""
    from backend.api.app import create_app

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings = make_settings(tmp_path / "home", data_root, mlflow_tracking_uri=(blocker / "mlruns").as_uri())
    with TestClient(create_app(settings)) as client:
        pid = client.post("/api/projects", json={"name": "p", "graph": tiny_graph("cv")}).json()["id"]
        run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
        assert wait_run(client, run["id"])["status"] == "finished"
        events = client.get(f"/api/runs/{run['id']}/events").json()
    [warning] = [e for e in events if e["type"] == "node.log" and e["level"] == "warning"
                 and e["code"] == "mlflow_export_failed"]
    assert warning["node"] == "train" and warning["params"]["uri"].endswith("mlruns")
    assert events[-1]["type"] == "run.finished"

"""``abacus run --mlflow URI``: the command line's run logged to a local MLflow file store,
read back with MLflow's own client."""
import json
import subprocess
import sys

import pytest

from tests.conftest import make_image_folder, tiny_graph

pytest.importorskip("mlflow", reason="the mlflow extra (mlflow-skinny)")


def test_cli_run_exports_each_trainer_to_mlflow(tmp_path):
    from backend.runs.mlflow_export import _mlflow

    MlflowClient = _mlflow()[0]   # with the file store allowed, as the export does
    root = make_image_folder(tmp_path / "pets", per_class=10)
    graph = tmp_path / "cats.json"
    graph.write_text(json.dumps(tiny_graph(root, epochs=2)))
    uri = (tmp_path / "mlruns").as_uri()
    res = subprocess.run([sys.executable, "-m", "backend.cli", "run", str(graph), "--to", "train", "--json",
                          "--mlflow", uri], capture_output=True, text=True, timeout=600,
                         env={**__import__("os").environ, "ABACUS_HOME": str(tmp_path / "home")})
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert "logged to MLflow" in res.stderr

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("cats")   # named after the graph file
    [run] = client.search_runs([experiment.experiment_id])
    assert run.data.tags["abacus.run_id"] == summary["run_id"] and run.data.tags["abacus.node"] == "train"
    assert run.data.params["epochs"] == "2" and "optimizer.learning_rate" in run.data.params
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == \
        [(p["epoch"], p["metrics"]["val_accuracy"]) for p in summary["metrics"]["train"]]
    assert [a.path for a in client.list_artifacts(run.info.run_id, "model")]


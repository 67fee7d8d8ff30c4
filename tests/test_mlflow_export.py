"""What the MLflow export logs for a trainer, read from a graph (no MLflow, no torch needed)."""
import json
from pathlib import Path

from backend.engine import events as ev
from backend.engine.summaries import ModelSummary
from backend.runs.mlflow_export import MlflowExport, shown_uri, trainer_params, upstream

OFFLINE = Path(__file__).resolve().parents[1] / "templates" / "model_optimization_finetuning_offline.json"


def test_params_are_the_trainers_own_and_every_upstream_nodes():
    graph = json.loads(OFFLINE.read_text(encoding="utf-8"))
    assert "train_finetuned" not in upstream(graph, "train")
    assert {"train", "finetune", "optimizer_finetune", "optimizer", "dataset"} <= set(upstream(graph, "train_finetuned"))
    defaults = {"training.Trainer": {"epochs": 10, "keep_best": True}}
    params = trainer_params(graph, "train_finetuned", lambda t: defaults.get(t, {}))
    nodes = {n["id"]: n["params"] for n in graph["nodes"]}
    assert params["epochs"] == str(nodes["train_finetuned"]["epochs"])
    assert params["keep_best"] == "true"   # a default filled in
    assert params["optimizer_finetune.learning_rate"] == "1e-05"
    assert params["train.epochs"] == str(nodes["train"]["epochs"])
    assert params["component"] == "training.Trainer"
    assert all(len(v) <= 6000 for v in params.values())


def test_only_a_trained_model_is_exported_and_passwords_are_not_shown():
    export = MlflowExport("file:///nowhere", "p", "r1", {"nodes": [], "edges": []})
    untrained = ModelSummary(classes=["a", "b"], epochs=0, phase="finetune")   # FineTune's output
    assert export.observe(ev.NodeFinished(node="finetune", key="k", summary={"model": untrained})) == []
    assert export.observe(ev.NodeFinished(node="dense", key="k", summary={})) == []
    assert shown_uri("http://user:secret@host:5000/x") == "http://host:5000/x"
    assert shown_uri("file:///tmp/mlruns") == "file:///tmp/mlruns"

"""Small real CPU runs of the trainer, the fine-tune step and the evaluation."""
import copy
import math
from pathlib import Path

import pytest
import torch

from components.torchkit.model import load_model_file
from tests.conftest import of_type, tiny_graph


def _set(graph, node, **params):
    graph = copy.deepcopy(graph)
    next(n for n in graph["nodes"] if n["id"] == node)["params"].update(params)
    return graph


def test_trainer_learns_and_reports_per_batch_and_per_epoch(runner, image_folder):
    graph = _set(tiny_graph(image_folder, epochs=4), "optimizer", learning_rate=3e-3)
    status, events, ex = runner.run(graph, ["train"])
    assert status == "finished"
    progress = of_type(events, "node.progress", "train")
    assert any(e["unit"] == "batch" and e["phase"] == "epoch 1/4" for e in progress)
    metrics = of_type(events, "node.metrics", "train")
    assert [m["epoch"] for m in metrics] == [1, 2, 3, 4]
    assert set(metrics[0]["metrics"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert metrics[-1]["metrics"]["loss"] < metrics[0]["metrics"]["loss"]
    trained = ex.results["train"]["model"]
    best = max(m["metrics"]["val_accuracy"] for m in metrics)
    assert trained.history[trained.best_epoch - 1]["val_accuracy"] == best   # keeps the best weights
    assert best >= 0.75
    model, loaded = load_model_file(trained.model_file)
    assert loaded.classes == ["cat", "dog"] and loaded.input_shape == (32, 32, 3)


@pytest.mark.parametrize("optimizer", ["optimizers.Adam", "optimizers.SGD"])
def test_other_optimizers_train(runner, image_folder, optimizer):
    graph = tiny_graph(image_folder, epochs=1)
    node = next(n for n in graph["nodes"] if n["id"] == "optimizer")
    node["type"], node["params"] = optimizer, {}
    status, events, _ = runner.run(graph, ["train"])
    assert status == "finished" and len(of_type(events, "node.metrics", "train")) == 1


def test_feature_cache_matches_the_plain_path(tmp_path, image_folder, same_metrics):
    from tests.conftest import Runner

    on = Runner(tmp_path / "on").run(tiny_graph(image_folder, epochs=3, backbone=True, cache=True),
                                     ["train_finetuned"])
    off = Runner(tmp_path / "off").run(tiny_graph(image_folder, epochs=3, backbone=True, cache=False),
                                       ["train_finetuned"])
    assert on[0] == off[0] == "finished"
    same_metrics(on[1], off[1], 3, rel=1e-3, abs=1e-4)
    logs = [e for e in on[1] if e["type"] == "node.log" and (e["cache"] or {}).get("cache") == "features"]
    assert any(e["node"] == "train" and e["cache"]["built"] for e in logs)
    # fine-tuning starts from the output kept during the first phase: no second backbone pass
    fine = [e for e in logs if e["node"] == "train_finetuned"]
    assert fine and all(not e["cache"]["built"] and e["cache"]["stage"] == "backbone:block7a" for e in fine)
    off_logs = [e for e in off[1] if e["type"] == "node.log" and (e["cache"] or {}).get("cache") == "features"]
    assert off_logs and all(e["cache"]["enabled"] is False for e in off_logs)


def test_mixed_precision_path_runs_on_the_cpu_and_keeps_its_own_features(tmp_path, image_folder, monkeypatch,
                                                                         studio_run):
    """What GPUs do by default (bf16 autocast), run on the CPU with ABACUS_AMP=bf16 (through
    the studio's settings and the run's context): both phases train from the feature cache,
    agree with the uncached path, and the bf16 features are kept apart from float32 ones."""
    from tests.conftest import Runner

    graph = tiny_graph(image_folder, epochs=2, backbone=True, cache=True)
    monkeypatch.setenv("ABACUS_AMP", "bf16")
    status, on = studio_run(tmp_path / "cache", graph, ["train_finetuned"])
    assert status == "finished"
    off_status, off, _ = Runner(tmp_path / "off").run(tiny_graph(image_folder, epochs=2, backbone=True, cache=False),
                                                      ["train_finetuned"])
    assert off_status == "finished"
    feats = [e["cache"] for e in on if e["type"] == "node.log" and (e["cache"] or {}).get("cache") == "features"]
    assert feats and all(d["precision"] == "bfloat16" for d in feats)
    for node in ("train", "train_finetuned"):
        a = [m["metrics"] for m in of_type(on, "node.metrics", node)]
        b = [m["metrics"] for m in of_type(off, "node.metrics", node)]
        assert len(a) == len(b) == 2
        for x, y in zip(a, b):
            assert all(math.isfinite(v) for v in x.values())
            assert x["loss"] == pytest.approx(y["loss"], rel=0.05, abs=0.02), node
    # float32 again in the same store: the bf16 features are not reused for it
    monkeypatch.setenv("ABACUS_AMP", "0")
    status, again = studio_run(tmp_path / "cache", graph, ["train"], mode="node")
    assert status == "finished"
    built = [e["cache"] for e in again if e["type"] == "node.log" and (e["cache"] or {}).get("cache") == "features"]
    assert built and all(d["built"] and d["precision"] == "float32" for d in built)


def test_augmentation_turns_the_feature_cache_off_and_says_why(runner, image_folder):
    status, events, _ = runner.run(tiny_graph(image_folder, epochs=1, backbone=True, augmentation="flip_rotate_zoom"),
                                   ["train"])
    assert status == "finished"
    logs = [e for e in events if e["type"] == "node.log" and (e["cache"] or {}).get("cache") == "features"]
    assert logs and {k: logs[0]["cache"][k] for k in ("cache", "enabled", "reason")} == {
        "cache": "features", "enabled": False, "reason": "augmentation"}


def test_fine_tune_unfreezes_only_the_chosen_layers(runner, image_folder):
    graph = tiny_graph(image_folder, epochs=1, backbone=True)
    status, events, ex = runner.run(graph, ["finetune"])
    prepared = ex.results["finetune"]["model"]
    assert status == "finished"
    assert "backbone:top" in prepared.trainable and "backbone:block7a" not in prepared.trainable
    assert {"dense", "output"} <= set(prepared.trainable)
    assert prepared.optimizer.learning_rate == pytest.approx(1e-3 * 0.5)   # smaller by default
    graph = _set(graph, "finetune", layers=["block7a", "top"])
    status, events, ex = runner.run(graph, ["train_finetuned"])
    tuned = ex.results["train_finetuned"]["model"]
    first = ex.results["train"]["model"]
    assert "backbone:block7a" in tuned.trainable
    changed = {k.split(".")[0] for k in first.state if not torch.equal(first.state[k], tuned.state[k])}
    assert changed and changed <= {"backbone:block7a", "backbone:top", "dense", "output"}


def test_evaluate_reports_accuracy_and_confusion(runner, image_folder):
    status, events, ex = runner.run(tiny_graph(image_folder, epochs=2), ["evaluate"])
    report = ex.results["evaluate"]["report"]
    assert status == "finished"
    assert sum(map(sum, report.confusion)) == 6 and 0 <= report.accuracy <= 1
    assert len(report.samples) == 3 and report.samples[0]["label"] in ("cat", "dog")
    finished = of_type(events, "node.finished", "evaluate")[0]
    assert finished["summary"]["report"]["accuracy"] == report.accuracy


def test_nothing_to_train_is_a_clear_error(runner, image_folder):
    graph = tiny_graph(image_folder, epochs=1, backbone=True)
    graph["edges"] = [e for e in graph["edges"] if e["target"] not in ("flatten", "train") or e["targetHandle"] != "input"]
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] not in ("dense", "output", "flatten")]
    graph["edges"] = [e for e in graph["edges"] if e["source"] not in ("dense", "output", "flatten")]
    # backbone straight into the trainer: everything frozen, and a 1x1x1280 output
    graph["edges"].append({"source": "backbone", "sourceHandle": "output", "target": "train", "targetHandle": "model"})
    from backend.engine import Graph, validate
    import components

    v = validate(Graph.model_validate(graph), components.registry)
    assert any(i.code == "shape_mismatch" and i.node == "train" for i in v.issues)


def test_a_stored_trained_model_keeps_its_weights_once(tmp_path, image_folder):
    """The result file refers to the model file for the weights; a new process gets them back
    from there, and if the model file is deleted the trainer runs again."""
    from tests.conftest import Runner

    graph = tiny_graph(image_folder, epochs=1)
    status, events, ex = Runner(tmp_path).run(graph, ["train"])
    assert status == "finished"
    trained = ex.results["train"]["model"]
    model_file = Path(trained.model_file)
    key = next(e["key"] for e in events if e["type"] == "node.finished" and e["node"] == "train")
    result = ex.store.result_path(key)
    assert result.stat().st_size < model_file.stat().st_size / 2  # the weights are not in it twice

    status, again, ex2 = Runner(tmp_path).run(graph, ["train"])  # a new process: nothing in memory
    assert status == "finished" and "train" in [e["node"] for e in again if e["type"] == "node.cached"]
    loaded = ex2.results["train"]["model"]
    assert loaded.state.keys() == trained.state.keys()
    assert all(torch.equal(loaded.state[k], trained.state[k]) for k in trained.state)

    model_file.unlink()
    status, third, _ = Runner(tmp_path).run(graph, ["train"])
    assert status == "finished"
    assert "train" in [e["node"] for e in third if e["type"] == "node.finished"]
    assert model_file.exists()


def test_inference_batches_hold_about_the_same_pixels_on_a_cpu():
    from components.torchkit.train import inference_batch

    cpu = torch.device("cpu")
    assert inference_batch(cpu, 150 * 150) == 16   # the template's size: measured best
    assert inference_batch(cpu, 64 * 64) == 87     # small images: bigger batches
    assert inference_batch(cpu, 224 * 224) == 16   # never below 16
    assert inference_batch(cpu, 8 * 8) == 256      # nor above 256
    assert inference_batch(cpu) == 16              # features: no image size
    assert inference_batch(torch.device("cuda"), 150 * 150) == 256

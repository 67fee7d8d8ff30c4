"""Fixed augmentation variants with the feature cache, and the trainer's early stopping and
learning-rate reduction (issue 15)."""
import copy

import pytest
import torch

from components.torchkit import variants as fixed
from components.torchkit.callbacks import CallbackConfig, Callbacks
from tests.conftest import Runner, of_type, tiny_graph


def _set(graph, node, **params):
    graph = copy.deepcopy(graph)
    next(n for n in graph["nodes"] if n["id"] == node)["params"].update(params)
    return graph


def _feature_logs(events, node=None):
    return [e for e in events if e["type"] == "node.log" and (e["cache"] or {}).get("cache") == "features"
            and (node is None or e["node"] == node)]


def test_variants_are_fixed_transforms_of_the_image():
    x = torch.rand(3, 3, 20, 20)
    plain, hflip, zoom, zoom_flip = fixed.variants_of("fixed_flip_crops")
    assert plain.plain and torch.equal(fixed.transform(x, hflip), x.flip(3))
    assert fixed.transform(x, zoom).shape == x.shape and not torch.allclose(fixed.transform(x, zoom), x)
    assert torch.equal(fixed.transform(x, zoom_flip), fixed.transform(x, zoom).flip(3))
    ids = torch.tensor([0, 1, 2])
    out = fixed.apply(x, ids, fixed.variants_of("fixed_flip_crops"))
    assert torch.equal(out[0], x[0]) and torch.equal(out[1], x[1].flip(2))
    assert torch.equal(out[2], fixed.transform(x[2:3], zoom)[0])
    assert fixed.variants_of("none") is None and fixed.variants_of("flip") is None   # random flip stays random


def test_cached_variants_match_the_plain_path_fed_the_same_variants(tmp_path, image_folder, same_metrics):
    """Both phases on the cached features of each variant give the metrics of the uncached path,
    which transforms each batch by the same drawn variants; fine-tuning needs no second pass."""
    graphs = {cache: tiny_graph(image_folder, epochs=3, backbone=True, cache=cache, augmentation="fixed_flip_crops")
              for cache in (True, False)}
    on = Runner(tmp_path / "on").run(graphs[True], ["train_finetuned"])
    off = Runner(tmp_path / "off").run(graphs[False], ["train_finetuned"])
    assert on[0] == off[0] == "finished"
    same_metrics(on[1], off[1], 3, abs=1e-3)
    logs = _feature_logs(on[1], "train")
    built = [e["cache"] for e in logs if e["cache"]["built"] and e["cache"]["split"] == "train"]
    assert sorted(c["variant"] or "plain" for c in built) == ["hflip", "plain", "zoom_centre", "zoom_centre_hflip"]
    assert all(c["also_kept"] == ["backbone:block7a"] for c in built)   # the fine-tuning point, per variant
    summary = [e for e in logs if e["code"] == "feature_variants"]
    assert len(summary) == 1 and summary[0]["cache"]["variants"] == 4 and summary[0]["cache"]["seconds"] >= 0
    assert summary[0]["params"]["variants"] == 4
    val = [e["cache"] for e in logs if e["cache"]["split"] == "validation"]
    assert val and all(c["variant"] is None for c in val)   # validation sees the plain image
    fine = _feature_logs(on[1], "train_finetuned")
    assert fine and all(e["cache"]["built"] is False for e in fine if e["code"] != "feature_variants")
    # the different variants gave different features (the draw really mixes them)
    assert len({c["key"] for c in built}) == 4
    # without the cache the variants are still drawn, and the events say the cache was turned off
    off_logs = _feature_logs(off[1])
    assert off_logs and all(e["cache"]["enabled"] is False and e["cache"]["reason"] == "disabled" for e in off_logs)


def test_random_augmentation_still_turns_the_cache_off(runner, image_folder):
    status, events, _ = runner.run(tiny_graph(image_folder, epochs=1, backbone=True, augmentation="flip"), ["train"])
    assert status == "finished"
    logs = _feature_logs(events)
    assert logs and logs[0]["cache"]["enabled"] is False and logs[0]["cache"]["reason"] == "augmentation"


def test_early_stopping_and_lr_reduction_say_when(runner, image_folder):
    # min_delta 1: no epoch after the first ever improves val_loss by a whole unit
    graph = _set(tiny_graph(image_folder, epochs=6), "train", early_stopping_patience=2, reduce_lr_patience=1,
                 reduce_lr_factor=0.5, min_delta=1.0)
    status, events, ex = runner.run(graph, ["train"])
    assert status == "finished"
    metrics = of_type(events, "node.metrics", "train")
    assert [m["epoch"] for m in metrics] == [1, 2, 3]
    assert [m["stopped_early"] for m in metrics] == [False, False, True]
    logs = {e["code"]: e for e in of_type(events, "node.log", "train") if e["code"] in ("stopped_early", "lr_reduced")}
    assert logs["stopped_early"]["params"]["epoch"] == 3
    reduced = [e for e in of_type(events, "node.log", "train") if e["code"] == "lr_reduced"]
    assert [e["params"]["learning_rate"] for e in reduced] == ["0.0005", "0.00025"]
    trained = ex.results["train"]["model"]
    assert trained.stopped_epoch == 3 and len(trained.history) == 3
    finished = of_type(events, "node.finished", "train")[0]
    assert finished["summary"]["model"]["stopped_epoch"] == 3


def test_callbacks_default_off_and_replay_after_a_resume():
    off = Callbacks(CallbackConfig())
    assert not any(off.after_epoch(e, {"val_loss": 1.0}, 0.1).stop for e in range(1, 20))
    cfg = CallbackConfig(monitor="val_accuracy", early_stopping_patience=2, reduce_lr_patience=1, min_lr=0.04)
    history = [{"val_accuracy": 0.5}, {"val_accuracy": 0.6}, {"val_accuracy": 0.6}]
    live = Callbacks(cfg)
    decisions = [live.after_epoch(e, h, 0.1) for e, h in enumerate(history, 1)]
    assert [d.new_lr for d in decisions] == [None, None, pytest.approx(0.04)]   # 0.1 x 0.1, not below min_lr
    resumed = Callbacks(cfg)
    resumed.replay(history)
    nxt = {"val_accuracy": 0.6}
    assert live.after_epoch(4, nxt, 0.04).stop and resumed.after_epoch(4, nxt, 0.04).stop
    assert live.stopped_epoch == resumed.stopped_epoch == 4


def test_a_resumed_training_draws_the_same_variants_and_keeps_the_reduced_learning_rate(tmp_path, image_folder):
    """Cut after epoch 2 and resumed: the variant draws (the checkpointed generator), the reduced
    learning rate (the optimizer's state) and the plateau counters (rebuilt from the history)
    give the uninterrupted run's epochs, and it stops early at the same epoch."""
    from tests.components.test_checkpoints import _run

    graph = _set(tiny_graph(image_folder, epochs=6, augmentation="fixed_flip_crops"), "train",
                 reduce_lr_patience=1, reduce_lr_factor=0.5, early_stopping_patience=3, min_delta=1.0)
    status, whole, _ = _run(tmp_path / "whole", graph, "train")
    assert status == "finished"
    assert [m["epoch"] for m in of_type(whole, "node.metrics", "train")] == [1, 2, 3, 4]
    status, _, _ = _run(tmp_path / "cut", graph, "train", stop_after_epoch=2)
    assert status == "cancelled"
    status, resumed, ex = _run(tmp_path / "cut", graph, "train", resume=True)
    assert status == "finished" and ex.results["train"]["model"].stopped_epoch == 4
    got, want = of_type(resumed, "node.metrics", "train"), of_type(whole, "node.metrics", "train")
    assert [(m["epoch"], m["stopped_early"]) for m in got] == [(m["epoch"], m["stopped_early"]) for m in want]
    for a, b in zip(got, want):
        for k, v in b["metrics"].items():
            assert a["metrics"][k] == pytest.approx(v, abs=1e-6), (a["epoch"], k)
    rates = [e["params"]["learning_rate"] for e in resumed if e["type"] == "node.log" and e["code"] == "lr_reduced"]
    assert rates == ["0.00025", "0.000125"]   # after epochs 3 and 4 (0.0005 after epoch 2, before the cut)

"""A trainer's checkpoints: written whole each epoch, older ones pruned, and a resumed training
that ends exactly where the uninterrupted one does."""
import copy
import errno
import os

import pytest
import torch

from backend.engine.storage import StorageWriteError
from components.torchkit import checkpoint
from tests.conftest import of_type, tiny_graph


def _checkpoint(epoch: int, key: str = "k" * 32) -> checkpoint.Checkpoint:
    gen = torch.Generator().manual_seed(epoch)
    return checkpoint.Checkpoint(
        key=key, epoch=epoch, epochs=5, weights={"dense.weight": torch.full((2, 2), float(epoch))},
        optimizer={"state": {}, "param_groups": []}, rng=checkpoint.rng_state(gen, torch.device("cpu")),
        history=[{"loss": 1.0 / e} for e in range(1, epoch + 1)], best_epochs=list(range(1, epoch + 1)))


def test_each_epoch_replaces_the_last_checkpoint(tmp_path):
    for epoch in (1, 2, 3):
        checkpoint.save(tmp_path, _checkpoint(epoch))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-epoch0003.pt"]
    ck, problem = checkpoint.latest(tmp_path, "k" * 32)
    assert problem is None and ck.epoch == 3 and ck.history[-1] == {"loss": 1 / 3}
    assert torch.equal(ck.weights["dense.weight"], torch.full((2, 2), 3.0))
    assert checkpoint.latest(tmp_path, "other")[0] is None   # keyed by the node's cache key
    checkpoint.prune(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_write_cut_short_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    checkpoint.save(tmp_path, _checkpoint(2))
    # a process killed while writing leaves its temporary file: never taken for a checkpoint
    (tmp_path / "checkpoint-epoch0003.pt.tmp12345").write_bytes(b"\x80half a pickle")
    assert checkpoint.latest(tmp_path, "k" * 32)[0].epoch == 2

    def fsync_fails(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync_fails)   # the write fails before its rename
    with pytest.raises(StorageWriteError):
        checkpoint.save(tmp_path, _checkpoint(3))
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-epoch0002.pt", "checkpoint-epoch0003.pt.tmp12345"]
    assert checkpoint.latest(tmp_path, "k" * 32)[0].epoch == 2
    checkpoint.save(tmp_path, _checkpoint(3))   # the next good write clears what was left
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-epoch0003.pt"]


def test_a_damaged_checkpoint_is_reported_and_an_older_one_serves(tmp_path):
    checkpoint.save(tmp_path, _checkpoint(2))
    (tmp_path / "checkpoint-epoch0004.pt").write_bytes(b"not a checkpoint")
    ck, problem = checkpoint.latest(tmp_path, "k" * 32)
    assert ck.epoch == 2 and "checkpoint-epoch0004.pt does not load" in problem


def test_rng_states_round_trip(tmp_path):
    import random

    import numpy as np

    gen = torch.Generator().manual_seed(7)
    state = checkpoint.rng_state(gen, torch.device("cpu"))
    expected = (torch.rand(3), torch.rand(3, generator=gen), np.random.rand(3), random.random())
    checkpoint.save(tmp_path, checkpoint.Checkpoint(key="k", epoch=1, epochs=1, weights={}, optimizer={},
                                                    rng=state, history=[{}]))
    ck, _ = checkpoint.latest(tmp_path, "k")   # loads with weights_only=True
    gen2 = torch.Generator()
    checkpoint.restore_rng(ck.rng, gen2, torch.device("cpu"))
    again = (torch.rand(3), torch.rand(3, generator=gen2), np.random.rand(3), random.random())
    assert torch.equal(expected[0], again[0]) and torch.equal(expected[1], again[1])
    assert (expected[2] == again[2]).all() and expected[3] == again[3]


# ------------------------------------------------------------------ resuming a real training
def _stochastic_graph(root, epochs: int) -> dict:
    """Dropout and random flips: the dropout RNG and the batch-order generator must both be restored."""
    graph = tiny_graph(root, epochs=epochs, augmentation="flip")
    graph["nodes"].append({"id": "dropout", "type": "layers.Dropout", "params": {"rate": 0.3}})
    graph["edges"] = [e for e in graph["edges"] if not (e["source"] == "dense" and e["target"] == "output")]
    graph["edges"] += [{"source": "dense", "sourceHandle": "output", "target": "dropout", "targetHandle": "input"},
                       {"source": "dropout", "sourceHandle": "output", "target": "output", "targetHandle": "input"}]
    return graph


def _run(cache_dir, graph, target, *, resume=False, stop_after_epoch=None):
    import json

    import components
    from backend.engine import Executor, Graph, RunSettings, make_plan, validate
    from backend.store.artifacts import FileResultStore

    g = Graph.model_validate(copy.deepcopy(graph))
    v = validate(g, components.registry)
    assert v.ok, [i.message for i in v.issues]
    events: list[dict] = []

    def cancelled():   # a run cut short in the epoch after ``stop_after_epoch``
        return stop_after_epoch is not None and any(
            e["type"] == "node.metrics" and e["node"] == target and e["epoch"] == stop_after_epoch for e in events)

    ex = Executor(g, v, components.registry, FileResultStore(cache_dir), lambda e: events.append(
        json.loads(e.model_dump_json())), cancelled=cancelled, settings=RunSettings(device="cpu", resume=resume))
    return ex.run(make_plan(g, v, components.registry, [target], "to")), events, ex


@pytest.mark.parametrize("target", ["train", "train_finetuned"])
def test_a_resumed_training_ends_as_the_uninterrupted_one(tmp_path, image_folder, target):
    if target == "train":
        graph = _stochastic_graph(image_folder, epochs=4)
    else:   # the second phase, after the fine-tune step: its first phase comes from the cache
        graph = tiny_graph(image_folder, epochs=3, backbone=True)
    status, whole, ex_whole = _run(tmp_path / "whole", graph, target)
    assert status == "finished"
    status, cut, _ = _run(tmp_path / "cut", graph, target, stop_after_epoch=2)
    assert status == "cancelled"
    assert [m["epoch"] for m in of_type(cut, "node.metrics", target)] == [1, 2]
    folder = next((tmp_path / "cut" / "artifacts").glob("*/checkpoint-epoch0002.pt"))
    assert [p.name for p in folder.parent.glob("checkpoint-*")] == ["checkpoint-epoch0002.pt"]

    status, resumed, ex = _run(tmp_path / "cut", graph, target, resume=True)
    assert status == "finished"
    assert any(e["type"] == "node.log" and e["code"] == "training_resumed" and e["params"]["epoch"] == 2
               for e in resumed)
    metrics = of_type(resumed, "node.metrics", target)
    # the earlier epochs first, marked resumed, then the ones trained now
    assert [(m["epoch"], m["resumed"]) for m in metrics] == \
        [(1, True), (2, True)] + [(e, False) for e in range(3, len(metrics) + 1)]
    expected = of_type(whole, "node.metrics", target)
    assert len(metrics) == len(expected)
    for got, want in zip(metrics, expected):
        assert got["best_epoch"] == want["best_epoch"]
        for k, v in want["metrics"].items():
            assert got["metrics"][k] == pytest.approx(v, abs=1e-6), (got["epoch"], k)
    a, b = ex_whole.results[target]["model"], ex.results[target]["model"]
    assert a.best_epoch == b.best_epoch and len(a.history) == len(b.history)
    for x, y in zip(a.history, b.history):
        assert x == pytest.approx(y, abs=1e-6)
    for k in a.state:
        assert torch.allclose(a.state[k], b.state[k], atol=1e-6), k
    assert not list(folder.parent.glob("checkpoint-*")), "a finished trainer keeps no checkpoint"


def test_resume_without_a_checkpoint_trains_from_the_start(tmp_path, image_folder):
    status, events, _ = _run(tmp_path, tiny_graph(image_folder, epochs=1), "train", resume=True)
    assert status == "finished"
    assert any(e["type"] == "node.log" and e["code"] == "no_checkpoint" for e in events)
    assert [m["resumed"] for m in of_type(events, "node.metrics", "train")] == [False]

"""A graph's costs in the validation the editor asks for: a default speed before the worker
has trained, its measured speed and the stored dataset's sizes after a real run."""
from __future__ import annotations

from .conftest import wait_run
from .helpers import tiny_graph


def _validate(client, graph):
    r = client.post("/api/validate", json={"graph": graph})
    assert r.status_code == 200, r.text
    return r.json()


def test_costs_before_and_after_a_run(client):
    graph = tiny_graph("cv", epochs=3, backbone=True)
    before = _validate(client, graph)
    assert before["ok"]
    costs = before["costs"]
    assert costs["backbone"]["model"]["params"] == 3_371_008 and costs["backbone"]["model"]["trainable"] == 0
    assert costs["output"]["model"]["trainable"] == costs["output"]["model"]["params"] - 3_371_008
    training = costs["train"]["training"]
    # nothing stored yet: no image counts, so no cache size and no time; per image it is known (1x1x1280 at 32 px)
    assert training["images"] is None and training["epoch_seconds"] is None
    assert training["feature_bytes_per_image"] == 1280 * 4
    assert costs["train"]["warnings"] == []   # the studio's worker reports no GPU

    pid = client.post("/api/projects", json={"name": "p", "graph": graph}).json()["id"]
    run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
    assert wait_run(client, run["id"])["status"] == "finished"

    validation = _validate(client, graph)
    after = validation["costs"]["train"]["training"]
    sizes = after["images"]
    assert sizes and sizes["train"] > 0 and sizes["validation"] > 0
    # each fixed augmentation variant of a training image is cached once
    variants = max(1, validation["specs"]["format"]["images"]["info"].get("variants") or 0)
    assert after["feature_cache_bytes"] == (sizes["train"] * variants + sizes["validation"]) * 1280 * 4
    speed = after["speed"]
    assert speed["source"] == "measured" and speed["worker"] == "local/cpu" and speed["samples"] >= 1
    assert speed["train_flops_per_s"] > 0 and after["epoch_seconds"] is not None


def test_a_runs_speed_counts_the_steps_of_each_epoch_not_what_an_epoch_adds_once():
    from backend.engine import events as ev
    from backend.runs.speed import _training_steps

    def progress(epoch, step, ts):
        return ev.NodeProgress(node="train", step=step, total=10, unit="batch", code="epoch", epoch=epoch,
                               epochs=2, ts=ts)

    # epoch 1: steps 1..10 in 9 s; epoch 2 in 4.5 s; a validation pass and a checkpoint between them
    events = [progress(1, 1, 100.0), progress(1, 10, 109.0), ev.NodeMetrics(node="train", epoch=1, metrics={}, ts=130.0),
              progress(2, 1, 131.0), progress(2, 10, 135.5), ev.NodeProgress(node="other", step=5, code="epoch", epoch=1)]
    macs, seconds = _training_steps("train", events, batch=20, macs_per_image=1000)
    assert (macs, seconds) == ((9 + 9) * 20 * 1000, 13.5)

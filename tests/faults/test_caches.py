"""Caches that leak or lie: the worker's memory is bounded by bytes, and a corrupt stored
result is found, removed and made again instead of failing every run."""
from __future__ import annotations

import copy

import pytest
import torch

from backend.engine import MemoryCache
from backend.store.artifacts import FileResultStore, rebase_bundle
from components.values import TrainedModel
from tests.conftest import Runner, make_image_folder, of_type
from tests.conftest import tiny_graph as engine_graph

from .conftest import wait_run

MiB = 1024 * 1024


def _mib(fill: float) -> torch.Tensor:
    return torch.full((MiB // 4,), fill, dtype=torch.float32)   # 1 MiB of float32


def test_memory_cache_is_bounded_by_the_bytes_of_its_tensors(tmp_path):
    from backend.engine.execute import ENTRY_OVERHEAD, nbytes

    entry = nbytes({"out": _mib(0)}) + ENTRY_OVERHEAD
    assert MiB <= entry - ENTRY_OVERHEAD < MiB + 64
    model = TrainedModel(layers=[], state={"w": _mib(1), "b": torch.zeros(256)}, classes=["a", "b"],
                         input_shape=(1,), output_shape=(1,), trainable=[])
    assert nbytes({"model": model}) >= MiB + 1024   # a value's tensors are found inside it

    memory = MemoryCache(max_bytes=3 * entry + 100)
    store = FileResultStore(tmp_path / "cache")
    for i, key in enumerate("abc"):
        outputs = {"out": _mib(i)}
        store.save(key * 8, key, "test.Tensor", outputs)   # what a persisting component's result does
        assert memory.put(key * 8, outputs)
    assert memory.keys() == ["aaaaaaaa", "bbbbbbbb", "cccccccc"] and memory.total <= memory.max_bytes
    assert memory.get("aaaaaaaa") is not None   # used: now the most recent
    memory.put("dddddddd", {"out": _mib(3)})
    assert memory.keys() == ["cccccccc", "aaaaaaaa", "dddddddd"], "the least recently used goes first"
    assert memory.total <= memory.max_bytes and len(memory) == 3

    # larger than the whole bound: not kept, and nothing else is dropped for it
    assert memory.put("huge", {"out": torch.zeros(4 * MiB // 4)}) is False
    assert "huge" not in memory and memory.keys() == ["cccccccc", "aaaaaaaa", "dddddddd"]
    # a key put again replaces its entry (counted once)
    memory.put("dddddddd", {"out": _mib(3)})
    assert memory.total == 3 * entry

    # what memory dropped is still in the store, whole
    assert memory.get("bbbbbbbb") is None and store.has("bbbbbbbb")
    assert torch.equal(store.load("bbbbbbbb")["out"], _mib(1))

    # a bound of 0 keeps nothing, not even small values
    none = MemoryCache(0)
    assert none.put("k", {"shape": (1, 2)}) is False and len(none) == 0


def test_runs_with_a_small_memory_serve_evicted_results_from_the_store(tmp_path):
    """A worker whose memory holds next to nothing still serves a stored trainer from the store,
    and remakes what lived only in memory (cheap, not persisted) instead of failing."""
    graph = engine_graph(make_image_folder(tmp_path / "pets", per_class=6), epochs=1)
    runner = Runner(tmp_path / "cache")
    runner.memory = MemoryCache(max_bytes=16 * 1024)   # the trained model never fits
    status, first, _ = runner.run(graph, ["train"])
    assert status == "finished" and of_type(first, "node.finished", "train")
    assert runner.memory.total <= 16 * 1024
    status, second, _ = runner.run(graph, ["evaluate"])
    assert status == "finished", [e for e in second if e["type"].endswith("failed")]
    assert of_type(second, "node.cached", "train") and of_type(second, "node.finished", "evaluate")
    assert not of_type(second, "node.started", "train")


def _trained_with_model_file(store: FileResultStore, key: str) -> dict:
    model_file = store.artifact_dir(key) / "model.pt"
    torch.save({"state": {"w": torch.arange(6.0)}}, model_file)
    model = TrainedModel(layers=[], state={"w": torch.arange(6.0)}, classes=["cat", "dog"], input_shape=(1,),
                         output_shape=(1,), trainable=[], model_file=str(model_file), weights_in_model_file=True)
    return {"model": model}


def test_stored_results_carry_digests_that_travel_and_catch_a_bad_model_file(tmp_path):
    from backend.engine.execute import CorruptResult

    store = FileResultStore(tmp_path / "server")
    key = "ab" * 32
    store.save(key, "train", "training.Trainer", _trained_with_model_file(store, key))
    files = store.meta(key)["files"]
    assert set(files) == {f"results/ab/{key}.pt", f"artifacts/{key}/model.pt"}
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in files.values())
    assert store.verify(key) is None and store.summary(key) is not None

    # a result that travels to another machine's store (the cluster path) is rewritten for its
    # root, and its digests still hold there
    other = FileResultStore(tmp_path / "node")
    other.write_files(rebase_bundle(store.bundle(key), str(store.root.resolve()), str(other.root.resolve())))
    assert other.verify(key) is None
    moved = other.load(key)["model"]
    assert moved.model_file.startswith(str(other.root.resolve())) and torch.equal(moved.state["w"], torch.arange(6.0))

    # a model file overwritten (same size) is caught by its digest: result and model file removed
    model_file = store.root / "artifacts" / key / "model.pt"
    model_file.write_bytes(b"\0" * model_file.stat().st_size)
    assert store.has(key), "asking whether it is cached stays cheap (existence)"
    assert store.summary(key) is None, "the server does not answer from a corrupt result"
    with pytest.raises(CorruptResult) as caught:
        store.load(key)
    assert caught.value.files == [f"artifacts/{key}/model.pt"] and "sha256" in str(caught.value)
    assert not store.has(key) and not model_file.exists() and not store.result_path(key).exists()

    # a corrupt result that travels keeps its (now wrong) digest and is found where it lands
    store.save(key, "train", "training.Trainer", _trained_with_model_file(store, key))
    store.result_path(key).write_bytes(b"garbage")
    third = FileResultStore(tmp_path / "third")
    third.write_files(rebase_bundle(store.bundle(key), str(store.root.resolve()), str(third.root.resolve())))
    with pytest.raises(CorruptResult):
        third.load(key)


def _stored(settings) -> dict[str, str]:
    """node id -> its stored result file."""
    import json

    out = {}
    for meta in (settings.cache_dir / "results").glob("*/*.json"):
        out[json.loads(meta.read_text())["node"]] = str(meta.with_suffix(".pt"))
    return out


def test_a_corrupt_cached_result_is_made_again(tmp_path, data_root, graph):
    from fastapi.testclient import TestClient

    from backend.api.app import create_app

    from .conftest import make_settings

    # no worker memory: the second run has to read the stored results
    settings = make_settings(tmp_path / "home", data_root, worker_memory_mb=0)
    with TestClient(create_app(settings)) as client:
        pid = client.post("/api/projects", json={"name": "p", "graph": copy.deepcopy(graph)}).json()["id"]

        def run() -> tuple[dict, list[dict]]:
            r = client.post(f"/api/projects/{pid}/runs", json={"targets": ["evaluate"], "mode": "to"})
            assert r.status_code == 201, r.text
            final = wait_run(client, r.json()["id"])
            return final, client.get(f"/api/runs/{final['id']}/events").json()

        final, _ = run()
        assert final["status"] == "finished", final
        stored = _stored(settings)
        assert {"train", "evaluate"} <= set(stored)
        with open(stored["train"], "r+b") as f:   # truncated
            f.truncate(f.seek(0, 2) // 2)
        with open(stored["evaluate"], "wb") as f:   # overwritten
            f.write(b"not a result at all " * 10)

        final, events = run()
        assert final["status"] == "finished", final
        corrupt = [e for e in of_type(events, "node.log") if e["data"].get("code") == "cache_corrupt"]
        assert {e["node"] for e in corrupt} == {"train", "evaluate"}, corrupt
        assert all(e["level"] == "warning" and e["data"]["key"] for e in corrupt)
        for node in ("train", "evaluate"):
            assert of_type(events, "node.started", node) and of_type(events, "node.finished", node)
            assert not of_type(events, "node.cached", node)
        started = of_type(events, "run.started")[0]
        assert {"train", "evaluate"} <= set(started["plan"])

        final, events = run()
        assert final["status"] == "finished", final
        assert not of_type(events, "node.started"), "the third run is served from the cache"
        assert of_type(events, "run.started")[0]["cached"] == ["evaluate"]
        assert of_type(events, "node.cached", "evaluate")

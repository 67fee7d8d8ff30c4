"""The cache's disk budget (backend/store/cache_budget.py) on a real result store: least
recently used entries go first, trained models last, what was used lately never, and every
removal is recorded so that "why it ran" can say so."""
from __future__ import annotations

import os
import time

import pytest
import torch

from backend.engine.settings import CacheBudget
from backend.store import cache_budget
from backend.store.artifacts import FileResultStore
from backend.store.result_index import ResultIndex

KB = 1024


def _age(store: FileResultStore, key: str, seconds_ago: float) -> None:
    """Make ``key``'s entry last used ``seconds_ago``."""
    t = time.time() - seconds_ago
    for path in [store.result_path(key), store.result_path(key).with_suffix(".json")]:
        if path.exists():
            os.utime(path, (t, t))
    folder = store.root / "artifacts" / key
    if folder.exists():
        for p in [*folder.rglob("*"), folder]:
            os.utime(p, (t, t))


def _features(store: FileResultStore, key: str, size: int, seconds_ago: float) -> None:
    (store.artifact_dir(key) / "features.npy").write_bytes(os.urandom(size))
    _age(store, key, seconds_ago)


def _model(store: FileResultStore, key: str, size: int, seconds_ago: float) -> None:
    """A trainer's stored result: its result file refers to its model file in the artifact folder."""
    model_file = store.artifact_dir(key) / "model.pt"
    model_file.write_bytes(os.urandom(size))
    store.save(key, "train", "Trainer", {"model": {"model_file": str(model_file)}})
    _age(store, key, seconds_ago)


def _result(store: FileResultStore, key: str, seconds_ago: float) -> None:
    store.save(key, "dense", "Dense", {"x": torch.zeros(256)})
    _age(store, key, seconds_ago)


@pytest.fixture
def store(tmp_path) -> FileResultStore:
    return FileResultStore(tmp_path / "cache")


def test_least_recently_used_goes_first_and_is_recorded(store):
    _features(store, "a" * 32, 100 * KB, seconds_ago=3000)
    _features(store, "b" * 32, 100 * KB, seconds_ago=2000)
    _features(store, "c" * 32, 100 * KB, seconds_ago=1000)
    _result(store, "d" * 32, seconds_ago=4000)
    before = cache_budget.usage(store.root, CacheBudget())
    assert before.entries == 4 and before.bytes > 300 * KB and before.models == 0

    report = cache_budget.prune(store.root, CacheBudget(max_bytes=150 * KB, min_free_bytes=0, keep_recent_s=0))
    # d (oldest, small) and a go; b (100 KB) is still over 150 KB with c, so it goes too
    assert report.why == "size" and report.removed == 3 and report.short_bytes == 0
    assert report.bytes_after <= 150 * KB
    assert not store.has("d" * 32) and not (store.root / "artifacts" / ("a" * 32)).exists()
    assert not (store.root / "artifacts" / ("b" * 32)).exists()
    assert (store.root / "artifacts" / ("c" * 32) / "features.npy").exists()
    index = ResultIndex(store.root)
    record = index.eviction("a" * 32)
    assert record is not None and record["why"] == "size" and record["bytes"] == 100 * KB
    assert index.eviction("c" * 32) is None
    # made again: the removal explains nothing any more
    index.made("scope", "dense", "d" * 32, "run1")
    assert index.eviction("d" * 32) is None and index.eviction("a" * 32) is not None


def test_trained_models_go_only_after_everything_else(store):
    _model(store, "m" * 32, 200 * KB, seconds_ago=9000)            # the oldest of all
    _features(store, "f" * 32, 200 * KB, seconds_ago=100)
    report = cache_budget.prune(store.root, CacheBudget(max_bytes=300 * KB, min_free_bytes=0, keep_recent_s=0))
    assert report.removed == 1 and report.removed_models == 0
    assert store.has("m" * 32) and not (store.root / "artifacts" / ("f" * 32)).exists()

    report = cache_budget.prune(store.root, CacheBudget(max_bytes=10 * KB, min_free_bytes=0, keep_recent_s=0))
    assert report.removed == 1 and report.removed_models == 1
    assert not store.has("m" * 32) and not (store.root / "artifacts" / ("m" * 32)).exists()
    assert ResultIndex(store.root).eviction("m" * 32)["model"] is True


def test_what_was_used_lately_or_is_protected_stays(store):
    _features(store, "a" * 32, 100 * KB, seconds_ago=30)
    _features(store, "b" * 32, 100 * KB, seconds_ago=5000)
    _features(store, "c" * 32, 100 * KB, seconds_ago=6000)
    budget = CacheBudget(max_bytes=1 * KB, min_free_bytes=0, keep_recent_s=600)
    report = cache_budget.prune(store.root, budget, protect={"c" * 32})
    assert report.removed == 1 and report.short_bytes > 0   # only b may go
    assert (store.root / "artifacts" / ("a" * 32)).exists() and (store.root / "artifacts" / ("c" * 32)).exists()


def test_a_nearly_full_disk_prunes_a_store_within_its_size(store):
    _features(store, "a" * 32, 100 * KB, seconds_ago=3000)
    _features(store, "b" * 32, 100 * KB, seconds_ago=2000)
    budget = CacheBudget(max_bytes=0, min_free_bytes=1000 * KB, keep_recent_s=0)   # no size limit
    report = cache_budget.prune(store.root, budget, free=lambda _root: 950 * KB)   # 50 KB short of it
    assert report.why == "disk" and report.removed == 1
    assert not (store.root / "artifacts" / ("a" * 32)).exists() and (store.root / "artifacts" / ("b" * 32)).exists()
    roomy = cache_budget.prune(store.root, budget, free=lambda _root: 5000 * KB)
    assert roomy.why is None and roomy.removed == 0


def test_serving_a_result_or_opening_its_folder_is_a_use(store):
    _result(store, "a" * 32, seconds_ago=5000)
    _result(store, "b" * 32, seconds_ago=4000)
    _features(store, "c" * 32, 10 * KB, seconds_ago=3000)
    store.load("a" * 32)             # a run read it: the newest now
    store.artifact_dir("c" * 32)     # a run opened its kept features
    used = {k: e.used for k, e in cache_budget.scan(store.root).items()}
    assert used["a" * 32] > time.time() - 60 and used["c" * 32] > time.time() - 60
    assert used["b" * 32] < time.time() - 3000
    assert store.summary("b" * 32) is not None   # served from the cache (node.cached): a use too
    assert cache_budget.scan(store.root)["b" * 32].used > time.time() - 60
    # the result file itself is not touched: its recorded digest still holds
    assert store.verify("a" * 32) is None


def test_a_write_in_progress_is_not_an_entry(store):
    _result(store, "a" * 32, seconds_ago=100)
    (store.result_path("a" * 32).parent / ("e" * 32 + ".pt.tmp123")).write_bytes(b"x" * 10)
    assert set(cache_budget.scan(store.root)) == {"a" * 32}


def test_keep_models_frees_everything_else(store):
    _model(store, "m" * 32, 50 * KB, seconds_ago=9000)
    _features(store, "f" * 32, 50 * KB, seconds_ago=100)
    _result(store, "r" * 32, seconds_ago=50)
    report = cache_budget.prune(store.root, CacheBudget(max_bytes=1, min_free_bytes=0, keep_recent_s=0),
                                keep_models=True)
    assert report.removed == 2 and report.removed_models == 0 and report.short_bytes > 0
    assert set(cache_budget.scan(store.root)) == {"m" * 32} and store.has("m" * 32)

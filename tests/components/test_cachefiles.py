"""Cache files written in the background: served from memory until whole, then from disk."""
import threading

import numpy as np

from components.torchkit import cachefiles


def test_a_file_being_written_is_read_from_memory_then_from_disk(tmp_path, monkeypatch):
    gate = threading.Event()
    real_save = np.save

    def slow_save(path, array):
        gate.wait(10)
        real_save(path, array)

    monkeypatch.setattr(cachefiles.np, "save", slow_save)
    target = tmp_path / "features.npy"
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    cachefiles.save_later(target, data)
    assert not target.exists()                   # nothing half-written is visible
    assert cachefiles.exists(target)
    assert cachefiles.load(target) is data       # this process reads it from memory meanwhile
    gate.set()
    cachefiles.wait_all()
    assert target.exists() and cachefiles.pending(target) is None
    assert np.array_equal(cachefiles.load(target), data)
    assert [p.name for p in tmp_path.iterdir()] == ["features.npy"]  # no temporary left


def test_a_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "missing-dir" / "features.npy"
    cachefiles.save_later(target, np.zeros(3, dtype=np.float32))
    cachefiles.wait_all()
    assert not cachefiles.exists(target)

"""Checkpoint files as the Ray worker moves them (backend/worker/checkpoint_files.py): the same
names as the trainer's, the newest read, kept whole with the older ones removed."""
from __future__ import annotations

from pathlib import Path

import pytest

from backend.worker import checkpoint_files as cf


def test_the_names_are_the_trainers():
    from components.torchkit import checkpoint

    assert (cf.PREFIX, cf.PATTERN.pattern) == (checkpoint.PREFIX, checkpoint.PATTERN.pattern)
    assert cf.PATTERN.match(checkpoint.path_for(Path("x"), 12).name)


def test_keep_writes_the_newest_and_removes_the_others(tmp_path: Path):
    folder = tmp_path / "artifacts" / "k"
    assert cf.newest(folder) is None and cf.read_newest(folder) is None   # no folder yet
    cf.keep(folder, "checkpoint-epoch0001.pt", b"one")
    (folder / "checkpoint-epoch0002.pt.tmp123").write_bytes(b"cut short")   # a write a crash cut short
    (folder / "model.pt").write_bytes(b"not a checkpoint")
    assert cf.read_newest(folder) == (1, "checkpoint-epoch0001.pt", b"one")
    cf.keep(folder, "checkpoint-epoch0003.pt", b"three")
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint-epoch0003.pt", "model.pt"]
    assert cf.read_newest(folder) == (3, "checkpoint-epoch0003.pt", b"three")
    cf.remove(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["model.pt"]


def test_keep_refuses_what_is_not_a_checkpoint(tmp_path: Path):
    for name in ("../checkpoint-epoch0001.pt", "result.pt", "checkpoint-epoch0001.pt.tmp1"):
        with pytest.raises(ValueError):
            cf.keep(tmp_path, name, b"x")
    assert list(tmp_path.iterdir()) == []


def test_a_key_that_is_a_path_is_refused(tmp_path: Path):
    assert cf.folder_of(tmp_path, "ab12") == tmp_path / "artifacts" / "ab12"
    for key in ("", "../x", "a/b", ".."):
        with pytest.raises(ValueError):
            cf.folder_of(tmp_path, key)

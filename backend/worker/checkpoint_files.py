"""A trainer's checkpoint files as files, without torch: what the Ray worker moves between a
worker node's store and the studio's.

A trainer writes ``checkpoint-epochNNNN.pt`` into its node's artifact folder at the end of
every epoch (``components/torchkit/checkpoint.py``, which loads and saves them with torch).
On a Ray cluster that folder is on the worker node, so the actor sends the newest one to the
driver, which keeps it in the studio's store the same way (written whole and durably, the
older ones removed): when the node dies, a resumed run on another node is sent it and
continues from the last completed epoch. Nothing here reads what is inside a checkpoint.
"""
from __future__ import annotations

import re
from pathlib import Path

from backend.engine.storage import write_file

# the names components/torchkit/checkpoint.py gives (tests/worker/test_checkpoint_files.py keeps them equal)
PREFIX = "checkpoint-epoch"
PATTERN = re.compile(r"^checkpoint-epoch(\d+)\.pt$")


def folder_of(root: str | Path, key: str) -> Path:
    """Where a store keeps the checkpoints of the trainer with cache key ``key``: the node's
    artifact folder, as ``FileResultStore.artifact_dir`` (without making it)."""
    if not key or not all(c.isalnum() or c in "-_" for c in key):
        raise ValueError(f"not a cache key: {key!r}")
    return Path(root) / "artifacts" / key


def newest(folder: Path) -> tuple[int, Path] | None:
    """The complete checkpoint of the latest epoch in ``folder`` (a write cut short is not one)."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return None
    found = [(int(m.group(1)), p) for p in entries if (m := PATTERN.match(p.name))]
    return max(found) if found else None


def read_newest(folder: Path) -> tuple[int, str, bytes] | None:
    """(epoch, file name, bytes) of the newest checkpoint; None when there is none. The trainer
    may replace it while it is read (a newer one written, this one removed): read the newer."""
    for _ in range(5):
        found = newest(folder)
        if found is None:
            return None
        epoch, path = found
        try:
            return epoch, path.name, path.read_bytes()
        except FileNotFoundError:
            continue
    return None


def keep(folder: Path, name: str, data: bytes) -> Path:
    """Write the checkpoint ``name`` into ``folder`` whole and durably (temporary file, fsync,
    rename), then remove the other checkpoints there, as the trainer does with its own."""
    if not PATTERN.match(name):
        raise ValueError(f"not a checkpoint's name: {name!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = write_file(folder / name, data, durable=True)
    remove(folder, but=name)
    return path


def remove(folder: Path, but: str | None = None) -> None:
    """Remove the checkpoints in ``folder`` (but the one named ``but``) and what writes of
    checkpoints cut short left behind: once the trained model is stored they have served."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return
    for p in entries:
        if p.name.startswith(PREFIX) and p.name != but:
            try:
                p.unlink()
            except OSError:
                pass

"""The cache's disk budget: how much the result store may keep, and what goes first.

The store (``backend/store/artifacts.py``) grows with every cache key a run makes: a dataset's
decoded images, a backbone's kept features, each trained model and its checkpoints. After a
run, when nothing else runs on that store, ``prune`` removes whole entries until the store is
within ``CacheBudget.max_bytes`` and its disk keeps ``min_free_bytes`` free:

- an entry is one cache key: ``results/KE/KEY.pt`` with its ``.json`` and the folder
  ``artifacts/KEY/`` (a model file, checkpoints, kept features, decoded images); a copy of a
  model a Ray node keeps for predictions (``models/NAME.pt``) is one too;
- least recently used first: the store touches a result's metadata when it serves it and an
  artifact folder when a run opens it, so the newest of their times is the last use;
- trained models (an entry whose artifact folder holds a model file or checkpoints: a trainer
  and an imported model keep theirs there) go only once nothing else is
  left to remove: making one again costs a training, making features again a pass;
- what was used within ``keep_recent_s`` stays (a run on another actor of the same node may
  be reading it), and so do the keys in ``protect``;
- every removal is recorded in the result index (``ResultIndex.evicted``), so a node
  that runs again because of it says so ("evicted", ``backend/engine/why.py``), not "missing".

Nothing here loads torch; a removal that fails (a file in use on another OS) is skipped.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from pydantic import BaseModel, Field

from backend.engine.settings import CacheBudget
from backend.store.result_index import ResultIndex

_MODEL_FILE = re.compile(r"^(model|checkpoint-epoch\d+|cancelled-epoch\d+)\.pt$")
_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass
class Entry:
    key: str
    bytes: int = 0
    used: float = 0.0
    model: bool = False
    paths: list[str] = field(default_factory=list)


class PruneReport(BaseModel):
    """What one pass of ``prune`` found and removed."""

    at: float = Field(description="when, seconds since the epoch")
    bytes_before: int = Field(description="the store's size before")
    bytes_after: int = Field(description="the store's size after")
    entries_before: int
    removed: int = Field(0, description="entries removed")
    removed_models: int = Field(0, description="of them, trained models (with their checkpoints)")
    freed_bytes: int = 0
    why: Literal["size", "disk", "both"] | None = Field(
        None, description="size: the store was over max_bytes; disk: its disk had less than min_free_bytes free; "
                          "both; None: nothing had to go")
    short_bytes: int = Field(0, description="bytes still over the budget: what was used recently (or is protected) "
                                            "is never removed")


class CacheUsage(BaseModel):
    """The store's size, its budget and the disk it lies on."""

    bytes: int
    entries: int
    models: int = Field(description="entries that hold a trained model")
    model_bytes: int
    max_bytes: int = Field(description="the store's budget; 0: no size limit")
    min_free_bytes: int = Field(description="free space kept on its disk; 0: none")
    keep_recent_s: float
    free_bytes: int = Field(description="free space on the disk the store lies on")
    last_prune: PruneReport | None = Field(None, description="the studio's last pass that removed something "
                                                             "(since it started)")


def disk_free(path: Path) -> int:
    """Free bytes on the disk ``path`` lies on (or would: the nearest folder that exists)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def _listing(folder: str) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError:   # missing, or removed meanwhile
        return []


def _size_and_newest(folder: str) -> tuple[int, float, bool]:
    """The bytes of the files under ``folder``, their newest time, and whether one is a model file."""
    total, newest, model = 0, 0.0, False
    for item in _listing(folder):
        try:
            if item.is_dir(follow_symlinks=False):
                size, when, inner = _size_and_newest(item.path)
                total, newest, model = total + size, max(newest, when), model or inner
                continue
            st = item.stat(follow_symlinks=False)
        except OSError:
            continue
        total += st.st_size
        newest = max(newest, st.st_mtime)
        model = model or bool(_MODEL_FILE.match(item.name))
    return total, newest, model


def scan(root: Path) -> dict[str, Entry]:
    """Every entry of the store under ``root``, by key (a prediction model copy: ``models/NAME``).
    os.scandir and plain strings: a pass over 5,000 entries is a stat of each file, little more."""
    entries: dict[str, Entry] = {}
    for shard in _listing(os.path.join(root, "results")):
        for item in _listing(shard.path) if shard.is_dir() else []:
            stem, dot, suffix = item.name.rpartition(".")
            if not dot or suffix not in ("pt", "json") or not _KEY.match(stem):
                continue   # a temporary file of a write in progress
            try:
                st = item.stat(follow_symlinks=False)
            except OSError:
                continue
            entry = entries.get(stem) or entries.setdefault(stem, Entry(stem))
            entry.bytes += st.st_size
            entry.used = max(entry.used, st.st_mtime)
            entry.paths.append(item.path)
    for folder in _listing(os.path.join(root, "artifacts")):
        if not folder.is_dir(follow_symlinks=False) or not _KEY.match(folder.name):
            continue
        try:
            touched = folder.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        size, newest, model = _size_and_newest(folder.path)
        entry = entries.get(folder.name) or entries.setdefault(folder.name, Entry(folder.name))
        entry.bytes += size
        entry.used = max(entry.used, newest, touched)
        entry.model = entry.model or model
        entry.paths.append(folder.path)
    for item in _listing(os.path.join(root, "models")):
        if item.name.endswith(".pt") and item.is_file(follow_symlinks=False):
            try:
                st = item.stat(follow_symlinks=False)
            except OSError:
                continue
            key = f"models/{item.name}"
            entries[key] = Entry(key, st.st_size, max(st.st_mtime, st.st_atime), False, [item.path])
    return entries


def _remove(entry: Entry) -> bool:
    # the result file first: from then on the store says it is missing, whatever is left
    order = sorted(map(Path, entry.paths),
                   key=lambda p: (p.suffix != ".pt" or p.parent.parent.name != "results", str(p)))
    for path in order:
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            return False
    return True


def usage(root: Path, budget: CacheBudget, *, last: PruneReport | None = None,
          free: Callable[[Path], int] = disk_free) -> CacheUsage:
    entries = scan(root).values()
    models = [e for e in entries if e.model]
    return CacheUsage(bytes=sum(e.bytes for e in entries), entries=len(entries), models=len(models),
                      model_bytes=sum(e.bytes for e in models), max_bytes=budget.max_bytes,
                      min_free_bytes=budget.min_free_bytes, keep_recent_s=budget.keep_recent_s,
                      free_bytes=free(root), last_prune=last)


_LOCK = threading.Lock()   # one pass at a time in a process (a Ray actor's runs may end close together)


def prune(root: str | os.PathLike, budget: CacheBudget, *, protect: set[str] = frozenset(),
          keep_models: bool = False, free: Callable[[Path], int] = disk_free,
          now: float | None = None) -> PruneReport:
    """Remove least recently used entries until the store under ``root`` meets ``budget``
    (``keep_models``: trained models are not removed at all, a person's "free up space")."""
    root = Path(root)
    with _LOCK:
        now = time.time() if now is None else now
        entries = scan(root)
        total = sum(e.bytes for e in entries.values())
        over_size = total - budget.max_bytes if budget.max_bytes else 0
        over_disk = budget.min_free_bytes - free(root) if budget.min_free_bytes else 0
        need = max(over_size, over_disk, 0)
        report = PruneReport(at=now, bytes_before=total, bytes_after=total, entries_before=len(entries))
        if need <= 0:
            return report
        report.why = "both" if over_size > 0 and over_disk > 0 else "size" if over_size > 0 else "disk"
        index = ResultIndex(root)
        candidates = sorted((e for e in entries.values()
                             if e.key not in protect and now - e.used >= budget.keep_recent_s
                             and not (keep_models and e.model)),
                            key=lambda e: (e.model, e.used))
        for entry in candidates:
            if report.freed_bytes >= need:
                break
            if not _remove(entry):
                continue
            report.removed += 1
            report.removed_models += entry.model
            report.freed_bytes += entry.bytes
            if not entry.key.startswith("models/"):
                try:
                    index.evicted(entry.key, {"at": now, "bytes": entry.bytes, "why": report.why,
                                              "model": entry.model})
                except OSError:
                    pass   # the record only explains: a full disk here is no reason to stop
        report.bytes_after = total - report.freed_bytes
        report.short_bytes = max(need - report.freed_bytes, 0)
        return report

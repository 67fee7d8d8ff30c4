"""Cache files written in the background.

The uint8 image caches and the feature caches are needed in memory at once, and on disk only
by later runs. Writing them (hundreds of MB for the template, 470 MB of VGG16 block4_pool
features) used to stop training until the bytes were down; now a thread writes them while
training goes on, and until a file is complete this process reads the array from memory.

A file appears only when it is whole (written to a temporary name, then renamed), so another
process never reads half of one. The threads are not daemons: a process finishes its writes
before it exits (a worker or CLI killed with SIGKILL loses them, and the next run rebuilds).
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger("abacus.cache")
_pending: dict[str, tuple[threading.Thread, np.ndarray]] = {}
_lock = threading.Lock()


def save_later(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (.npy) in a background thread."""
    path = Path(path)
    name = str(path)

    def write() -> None:
        tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}-{threading.get_ident()}.npy")
        try:
            np.save(tmp, array)
            os.replace(tmp, path)
        except OSError as err:  # a full disk: the next run computes it again
            log.warning("could not keep %s: %s", path, err)
            try:
                tmp.unlink()
            except OSError:
                pass
        finally:
            with _lock:
                _pending.pop(name, None)

    thread = threading.Thread(target=write, name=f"abacus-save-{path.name}")
    with _lock:
        _pending[name] = (thread, array)
    thread.start()


def pending(path: Path) -> np.ndarray | None:
    """The array of a file still being written by this process, else None."""
    with _lock:
        item = _pending.get(str(path))
    return None if item is None else item[1]


def exists(path: Path) -> bool:
    return pending(path) is not None or Path(path).exists()


def load(path: Path, mmap: bool = False) -> np.ndarray:
    array = pending(path)
    if array is not None:
        return array
    return np.load(path, mmap_mode="r" if mmap else None)


def wait_all(timeout: float | None = None) -> None:
    """Block until every background write of this process has finished."""
    with _lock:
        threads = [t for t, _ in _pending.values()]
    for thread in threads:
        thread.join(timeout)

"""Files written whole or not at all, and what a failed write means for a run.

A write that fails for want of room (ENOSPC, EDQUOT, or EFBIG: a file past its size limit)
ends the node with ``storage_full``; one of our writes that fails otherwise ends it with
``storage_error``. Either way the temporary file is removed, so a full disk does not stay
full of our half-written files. No torch here: callers that serialise with torch hand
``write_file`` a function that writes to a file object.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import IO, Callable

FULL_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if e is not None)


class StorageWriteError(OSError):
    """One of our writes failed (an OSError with the errno, reason and path of the failure)."""


def os_error_in(err: BaseException | None) -> OSError | None:
    """The OSError behind ``err``: itself, or one it was raised from or while handling (torch
    reports a failed write to a file object as a RuntimeError raised while handling it)."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, OSError):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def is_full(err: OSError) -> bool:
    return err.errno in FULL_ERRNOS


def describe(err: OSError) -> str:
    """``cannot write PATH: No space left on device (ENOSPC)``, as a person reads it."""
    name = errno.errorcode.get(err.errno or 0)
    reason = err.strerror or str(err)
    where = f"cannot write {err.filename}" if err.filename else "a write failed"
    return f"{where}: {reason}" + (f" ({name})" if name else "")


def storage_failure(err: BaseException) -> tuple[str, str] | None:
    """(code, message) when ``err`` is a failed write: ``storage_full`` for no room left,
    ``storage_error`` for another failure of one of our writes; None otherwise."""
    found = os_error_in(err)
    if found is None:
        return None
    if is_full(found):
        return "storage_full", f"the disk is full: {describe(found)}; free some space and run it again"
    if isinstance(found, StorageWriteError):
        return "storage_error", f"{describe(found)}; run it again when the storage works"
    return None


def write_file(path: str | os.PathLike, data: bytes | Callable[[IO[bytes]], None], *,
               durable: bool = False) -> Path:
    """Write ``path`` whole or not at all: to a temporary name beside it, then renamed.

    ``data``: the bytes, or a function writing them to a binary file object. When the write
    fails the temporary file is removed and the failure is raised as a StorageWriteError
    (with the errno, and the path) from the original error. ``durable``: fsync the file before
    the rename and the folder after it, so that the new file survives a power cut too (a
    trainer's checkpoint: what a resumed run continues from).
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            if isinstance(data, (bytes, bytearray, memoryview)):
                f.write(data)
            else:
                data(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
        if durable:
            _fsync_dir(path.parent)
    except BaseException as err:
        try:
            tmp.unlink()
        except OSError:
            pass
        found = os_error_in(err)
        if found is not None and not isinstance(found, StorageWriteError):
            raise StorageWriteError(found.errno, found.strerror or str(found), str(path)) from err
        raise
    return path


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""What a failed database or file write means, for the dispatcher and the API alike.

``storage_full``: no room left (ENOSPC, EDQUOT, EFBIG; SQLite's SQLITE_FULL "database or disk
is full"; PostgreSQL's disk_full). ``storage_error``: any other failure of the database or of
a file write. Constraint and value errors (IntegrityError, DataError) are the request's
fault, not the storage's: they are not classified here.
"""
from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from backend.engine.storage import describe, is_full, os_error_in

STORAGE_CODES = ("storage_full", "storage_error")
_PG_DISK_FULL = "53100"


def _database_full(orig: BaseException | None) -> bool:
    if orig is None:
        return False
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "database or disk is full" in str(orig):
        return True
    return getattr(orig, "sqlstate", None) == _PG_DISK_FULL or getattr(orig, "pgcode", None) == _PG_DISK_FULL


def storage_failure(err: BaseException) -> tuple[str, str] | None:
    """(code, message) when ``err`` is the storage failing (the database, or the disk under
    the server's files); None for anything else."""
    if isinstance(err, (IntegrityError, DataError)):
        return None
    if isinstance(err, DBAPIError) or isinstance(err, sqlite3.DatabaseError):
        orig = err.orig if isinstance(err, DBAPIError) else err
        if _database_full(orig) or is_full(os_error_in(orig) or OSError()):
            return "storage_full", f"the database cannot be written, the disk is full: {orig}"
        return "storage_error", f"the database failed: {orig}"
    found = os_error_in(err)
    if found is None:
        return None
    if is_full(found):
        return "storage_full", f"the disk is full: {describe(found)}"
    return "storage_error", f"the storage failed: {describe(found) if found.filename else found}"

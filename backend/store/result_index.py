"""The result index: what each cache key was made of, which run made it and when, and the
result each node of a project last had. Files under the result store's root, so that the
server and the command line (which has no database) share it; each written whole (temporary
file, rename), so a reader never sees half a file.

``index/keys/KE/KEY.json``   {"key", "node", "ingredients", "origin": {run_id, ts, project} | null}
``index/nodes/SCOPE/NODE.json``  {"key", "run_id", "ts", "project"}: the node's latest result in a
                                 project (a graph file, on the command line): made or served
``index/evicted/KE/KEY.json``    {"key", "at", "bytes", "why", "model"}: the cache's budget removed
                                 the key's files (until it is made again)

Why it ran (``backend/engine/why.py``) compares a node's current ingredients with those of the
latest result it had in the same project: that is the result the person last saw on the node.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from backend.engine.storage import write_file
from backend.engine.why import Origin


def _scope_dir(scope: str) -> str:
    """A folder name for a project or graph reference (any text)."""
    return hashlib.sha256(scope.encode()).hexdigest()[:24]


class ResultIndex:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root) / "index"

    def _key_path(self, key: str) -> Path:
        return self.root / "keys" / key[:2] / f"{key}.json"

    def _evicted_path(self, key: str) -> Path:
        return self.root / "evicted" / key[:2] / f"{key}.json"

    def _node_path(self, scope: str, node: str) -> Path:
        name = hashlib.sha256(node.encode()).hexdigest()[:24]
        return self.root / "nodes" / _scope_dir(scope) / f"{name}.json"

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def _write(path: Path, data: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, json.dumps(data, default=str, ensure_ascii=False).encode())

    # -- writing ------------------------------------------------------------------------
    def remember(self, node: str, key: str, ingredients: dict[str, Any]) -> None:
        """Keep what ``key`` is made of (once: a key's ingredients never change)."""
        path = self._key_path(key)
        if not path.exists():
            self._write(path, {"key": key, "node": node, "ingredients": ingredients, "origin": None})

    def made(self, scope: str, node: str, key: str, run_id: str, ts: float | None = None) -> None:
        """A run made ``key``'s result (node.finished): it is that key's origin and the node's latest."""
        ts = ts or time.time()
        entry = self._read(self._key_path(key)) or {"key": key, "node": node, "ingredients": None}
        entry["origin"] = {"key": key, "run_id": run_id, "ts": ts, "project": scope}
        self._write(self._key_path(key), entry)
        self._evicted_path(key).unlink(missing_ok=True)   # made again: its removal explains nothing now
        self.seen(scope, node, key, run_id, ts)

    def seen(self, scope: str, node: str, key: str, run_id: str, ts: float | None = None) -> None:
        """The node's result in ``scope`` is now ``key`` (made, or served from the cache)."""
        self._write(self._node_path(scope, node), {"key": key, "node": node, "run_id": run_id,
                                                   "ts": ts or time.time(), "project": scope})

    def evicted(self, key: str, record: dict[str, Any]) -> None:
        """The cache's budget removed ``key``'s files (``backend/store/cache_budget.py``)."""
        self._write(self._evicted_path(key), {"key": key, **record})

    # -- reading ------------------------------------------------------------------------
    def origin(self, key: str) -> Origin | None:
        entry = self._read(self._key_path(key))
        origin = entry.get("origin") if entry else None
        return Origin.model_validate(origin) if isinstance(origin, dict) else None

    def ingredients(self, key: str) -> dict[str, Any] | None:
        entry = self._read(self._key_path(key))
        value = entry.get("ingredients") if entry else None
        return value if isinstance(value, dict) else None

    def eviction(self, key: str) -> dict[str, Any] | None:
        """The record of ``key``'s removal by the cache's budget ({"at", "bytes", "why", "model"}),
        None when it was not removed so (or was made again since)."""
        return self._read(self._evicted_path(key))

    def latest(self, scope: str, node: str) -> Origin | None:
        """The node's latest result in ``scope``: its key, the run and when."""
        entry = self._read(self._node_path(scope, node))
        if not entry or not entry.get("key"):
            return None
        return Origin(key=entry["key"], run_id=entry.get("run_id"), ts=entry.get("ts"), project=entry.get("project"))

    def record(self, scope: str, event: Any) -> None:
        """Index a run's event (node.finished: made; node.cached: served). Other events are ignored."""
        kind = getattr(event, "type", None)
        if kind == "node.finished":
            self.made(scope, event.node, event.key, event.run_id, event.ts)
        elif kind == "node.cached":
            self.seen(scope, event.node, event.key, event.run_id, event.ts)

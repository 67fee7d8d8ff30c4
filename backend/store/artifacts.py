"""Results and artifacts on disk, addressed by cache key, so a new process reuses them."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from backend.engine.values import decode, encode, requirements


class FileResultStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        (self.root / "results").mkdir(parents=True, exist_ok=True)
        (self.root / "artifacts").mkdir(parents=True, exist_ok=True)

    def _result_path(self, key: str) -> Path:
        return self.root / "results" / key[:2] / f"{key}.pt"

    def has(self, key: str) -> bool:
        """A stored result whose files are all there (a trained model's weights live in its
        model file: if that was deleted, the node runs again)."""
        path = self._result_path(key)
        if not path.exists():
            return False
        try:
            meta = json.loads(path.with_suffix(".json").read_text())
        except (OSError, ValueError):
            return True  # a result stored before requirements were recorded
        return all(os.path.exists(p) for p in meta.get("requires", []))

    def load(self, key: str) -> dict[str, Any]:
        import torch

        return decode(torch.load(self._result_path(key), map_location="cpu", weights_only=True))

    def save(self, key: str, node_id: str, component: str, outputs: dict[str, Any]) -> None:
        import torch

        path = self._result_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(encode(outputs), tmp)
        os.replace(tmp, path)  # atomic: a crash never leaves a half-written result behind
        meta = {"key": key, "node": node_id, "component": component, "created": time.time(),
                "requires": requirements(outputs)}
        path.with_suffix(".json").write_text(json.dumps(meta))

    def artifact_dir(self, key: str) -> Path:
        path = self.root / "artifacts" / key
        path.mkdir(parents=True, exist_ok=True)
        return path

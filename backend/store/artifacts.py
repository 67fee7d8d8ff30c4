"""Results and artifacts on disk, addressed by cache key, so a new process reuses them."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from backend.engine.summaries import NodeSummary
from backend.engine.values import decode, encode, requirements

_SUMMARIES: TypeAdapter[dict[str, NodeSummary]] = TypeAdapter(dict[str, NodeSummary])


class FileResultStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        (self.root / "results").mkdir(parents=True, exist_ok=True)
        (self.root / "artifacts").mkdir(parents=True, exist_ok=True)

    def result_path(self, key: str) -> Path:
        return self.root / "results" / key[:2] / f"{key}.pt"

    def has(self, key: str) -> bool:
        """A stored result whose files are all there (a trained model's weights live in its
        model file: if that was deleted, the node runs again)."""
        if not self.result_path(key).exists():
            return False
        meta = self.meta(key)
        return meta is None or _complete(meta)  # no metadata: stored before requirements were recorded

    def load(self, key: str) -> dict[str, Any]:
        import torch

        return decode(torch.load(self.result_path(key), map_location="cpu", weights_only=True))

    def save(self, key: str, node_id: str, component: str, outputs: dict[str, Any]) -> None:
        import torch

        path = self.result_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(encode(outputs), tmp)
        os.replace(tmp, path)  # atomic: a crash never leaves a half-written result behind
        from backend.engine.execute import summaries

        meta = {"key": key, "node": node_id, "component": component, "created": time.time(),
                "requires": requirements(outputs),
                "summary": _SUMMARIES.dump_python(summaries(outputs), mode="json")}
        path.with_suffix(".json").write_text(json.dumps(meta, default=str))

    def meta(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.result_path(key).with_suffix(".json").read_text())
        except (OSError, ValueError):
            return None

    def summary(self, key: str) -> dict[str, NodeSummary] | None:
        """The summary its node.cached event carries, read without torch (None: not kept, or
        kept in an older shape: the worker then loads the result and describes it anew)."""
        meta = self.meta(key) if self.result_path(key).exists() else None
        if not meta or not _complete(meta) or meta.get("summary") is None:
            return None
        try:
            return _SUMMARIES.validate_python(meta["summary"])
        except ValidationError:
            return None

    # -- moving results between machines (a cluster worker has a store of its own) -------
    def bundle(self, key: str) -> dict[str, bytes]:
        """A stored result's files by path relative to the root: the result, its metadata and
        the files it requires that lie in this store (a trained model's model file)."""
        path = self.result_path(key)
        files = {str(path.relative_to(self.root)): path.read_bytes()}
        meta_path = path.with_suffix(".json")
        requires: list[str] = []
        if meta_path.exists():
            files[str(meta_path.relative_to(self.root))] = raw = meta_path.read_bytes()
            requires = json.loads(raw).get("requires", [])
        root = self.root.resolve()
        for required in requires:
            p = Path(required).resolve()
            if p.is_relative_to(root) and p.is_file():
                files[str(p.relative_to(root))] = p.read_bytes()
        return files

    def write_files(self, files: dict[str, bytes]) -> None:
        """Write a bundle's files under this root; each appears whole (temporary, then rename),
        the result file last so ``has`` is never true before its model file is there."""
        root = self.root.resolve()
        order = sorted(files, key=lambda rel: (rel.startswith("results/") and rel.endswith(".pt"), rel))
        for rel in order:
            target = (root / rel).resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"a bundle file lies outside the store: {rel}")
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
            tmp.write_bytes(files[rel])
            os.replace(tmp, target)

    def artifact_dir(self, key: str) -> Path:
        path = self.root / "artifacts" / key
        path.mkdir(parents=True, exist_ok=True)
        return path


def _complete(meta: dict[str, Any]) -> bool:
    return all(os.path.exists(p) for p in meta.get("requires", []))


def rebase(value: Any, old_root: str, new_root: str) -> Any:
    """``value`` with every string path under ``old_root`` moved under ``new_root``."""
    if isinstance(value, str):
        if value == old_root or value.startswith(old_root.rstrip("/") + "/"):
            return new_root.rstrip("/") + value[len(old_root.rstrip("/")):]
        return value
    if isinstance(value, dict):
        return {k: rebase(v, old_root, new_root) for k, v in value.items()}
    if isinstance(value, list):
        return [rebase(v, old_root, new_root) for v in value]
    if isinstance(value, tuple):
        return tuple(rebase(v, old_root, new_root) for v in value)
    return value


def rebase_bundle(files: dict[str, bytes], old_root: str, new_root: str) -> dict[str, bytes]:
    """A bundle whose result and metadata name paths under ``new_root`` instead of ``old_root``
    (a stored trained model refers to its model file by absolute path). Needs torch."""
    import io

    import torch

    out = {}
    for rel, data in files.items():
        if rel.startswith("results/") and rel.endswith(".pt"):
            value = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
            buf = io.BytesIO()
            torch.save(rebase(value, old_root, new_root), buf)
            data = buf.getvalue()
        elif rel.startswith("results/") and rel.endswith(".json"):
            data = json.dumps(rebase(json.loads(data), old_root, new_root), default=str).encode()
        out[rel] = data
    return out

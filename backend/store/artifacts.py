"""Results and artifacts on disk, addressed by cache key, so a new process reuses them.

Each result's metadata (``KEY.json`` next to ``KEY.pt``) records the size and sha256 of its
files (the result, and the model file it refers to), by path relative to the store's root;
loading verifies them, and a result that does not match, or does not load, is corrupt: its
files are removed and the node runs again.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from backend.engine.execute import CorruptResult
from backend.engine.storage import write_file
from backend.engine.summaries import NodeSummary
from backend.engine.values import decode, encode, requirements

_SUMMARIES: TypeAdapter[dict[str, NodeSummary]] = TypeAdapter(dict[str, NodeSummary])


class FileResultStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        (self.root / "results").mkdir(parents=True, exist_ok=True)
        (self.root / "artifacts").mkdir(parents=True, exist_ok=True)
        # path -> (stat signature, sha256) of files this process hashed: an unchanged file is
        # not read again to verify it
        self._hashed: dict[str, tuple[tuple[int, ...], str]] = {}

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
        """The stored outputs, their files verified against the recorded digests (the result
        hashed as it is read). Raises CorruptResult, having removed the files, when a file
        does not match or the result does not load."""
        import torch

        path = self.result_path(key)
        meta = self.meta(key) or {}
        problem, bad = None, []
        try:
            data = path.read_bytes()
        except OSError as err:
            data, problem, bad = b"", f"it cannot be read ({err.strerror or err})", [self._rel(path)]
        if problem is None:
            problem, bad = self._check(meta, {self._rel(path): data})
        if problem is None:
            try:
                outputs = decode(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))
                self.touch(key)
                return outputs
            except Exception as err:
                problem, bad = f"it does not load ({type(err).__name__}: {err})", [self._rel(path)]
        self.discard(key, bad)
        raise CorruptResult(key, f"the stored result {key[:12]} is corrupt: {problem}", bad)

    def verify(self, key: str) -> str | None:
        """What is wrong with a stored result's files (None: their digests match, or none were
        recorded). Cheap when they were verified before and have not changed since."""
        return self._check(self.meta(key) or {}, {})[0]

    def discard(self, key: str, files: list[str] = ()) -> None:
        """Remove a stored result (its result file and metadata) and the given files of it
        (relative to the root): the result is missing from then on."""
        path = self.result_path(key)
        for p in [path, path.with_suffix(".json"), *(self.root / rel for rel in files)]:
            self._hashed.pop(str(p), None)
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def _rel(self, path: Path) -> str:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(self.root)).as_posix()

    def _check(self, meta: dict[str, Any], read: dict[str, bytes]) -> tuple[str | None, list[str]]:
        """(what is wrong, the files at fault) for the files ``meta`` records; ``read``: the
        bytes of those already in hand."""
        for rel, want in (meta.get("files") or {}).items():
            if rel in read:
                got = (len(read[rel]), hashlib.sha256(read[rel]).hexdigest())
            else:
                try:
                    got = self._hash(self.root / rel)
                except OSError as err:
                    return f"{rel} cannot be read ({err.strerror or err})", [rel]
            if got[0] != want.get("size"):
                return f"{rel} has {got[0]} bytes, {want.get('size')} were stored", [rel]
            if got[1] != want.get("sha256"):
                return f"the sha256 of {rel} does not match the one stored with it", [rel]
        return None, []

    def _hash(self, path: Path) -> tuple[int, str]:
        st = os.stat(path)
        signature = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        known = self._hashed.get(str(path))
        if known is not None and known[0] == signature:
            return st.st_size, known[1]
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        self._hashed[str(path)] = (signature, digest.hexdigest())
        return st.st_size, digest.hexdigest()

    def save(self, key: str, node_id: str, component: str, outputs: dict[str, Any]) -> None:
        import torch

        path = self.result_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        torch.save(encode(outputs), buffer)
        data = buffer.getvalue()
        write_file(path, data)  # atomic: a crash or a full disk never leaves a half-written result behind
        from backend.engine.execute import summaries

        requires = requirements(outputs)
        files = {self._rel(path): {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}}
        root = os.path.abspath(self.root)
        for required in requires:   # files the result refers to that lie in this store (a model file)
            p = Path(os.path.abspath(required))
            if p.is_relative_to(root) and p.is_file():
                size, digest = self._hash(p)
                files[self._rel(p)] = {"size": size, "sha256": digest}
        meta = {"key": key, "node": node_id, "component": component, "created": time.time(),
                "requires": requires, "files": files,
                "summary": _SUMMARIES.dump_python(summaries(outputs), mode="json")}
        try:
            write_file(path.with_suffix(".json"), json.dumps(meta, default=str).encode())
        except OSError:   # a result without its metadata is not stored: the node failed
            self.discard(key)
            raise

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
        if self._check(meta, {})[0] is not None:
            return None   # corrupt: the worker finds it so, says so, and makes it again
        try:
            summary = _SUMMARIES.validate_python(meta["summary"])
        except ValidationError:
            return None
        self.touch(key)   # served from the cache: a use (backend/store/cache_budget.py)
        return summary

    def touch(self, key: str) -> None:
        """Mark a stored result used now (its metadata's time): the cache's budget removes the
        least recently used first. Its result file is left alone (its digest is remembered by
        its times)."""
        try:
            os.utime(self.result_path(key).with_suffix(".json"))
        except OSError:
            pass

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
            write_file(target, files[rel])

    def artifact_dir(self, key: str) -> Path:
        """The folder of ``key``'s files (made when missing); opening it marks it used now."""
        path = self.root / "artifacts" / key
        path.mkdir(parents=True, exist_ok=True)
        try:
            os.utime(path)
        except OSError:
            pass
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
    (a stored trained model refers to its model file by absolute path). Needs torch.

    A rewritten result gets its new digest in the metadata; a result that does not match its
    recorded digest, or does not load, travels as it is, to be found corrupt where it lands."""
    import torch

    out: dict[str, bytes] = {}
    digests: dict[str, dict[str, Any]] = {}
    metas: dict[str, Any] = {}
    for rel, data in files.items():
        if rel.startswith("results/") and rel.endswith(".json"):
            try:
                metas[rel] = json.loads(data)
            except ValueError:
                pass
    for rel, data in files.items():
        if rel.startswith("results/") and rel.endswith(".pt"):
            meta = metas.get(rel[:-len(".pt")] + ".json")
            want = (meta.get("files") or {}).get(rel) if isinstance(meta, dict) else None
            if want is None or (len(data), hashlib.sha256(data).hexdigest()) == (want.get("size"), want.get("sha256")):
                try:
                    value = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
                except Exception:
                    pass   # travels as it is
                else:
                    buf = io.BytesIO()
                    torch.save(rebase(value, old_root, new_root), buf)
                    data = buf.getvalue()
                    digests[rel] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        out[rel] = data
    for rel, meta in metas.items():
        meta = rebase(meta, old_root, new_root)
        if isinstance(meta, dict) and isinstance(meta.get("files"), dict):
            meta["files"].update({f: d for f, d in digests.items() if f in meta["files"]})
        out[rel] = json.dumps(meta, default=str).encode()
    return out

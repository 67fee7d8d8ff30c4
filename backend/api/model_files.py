"""Model files on the server: a project from an uploaded one, and their ONNX export.

The server never imports torch. It reads a model file's provenance with the torch-free reader
(``backend.engine.provenance``), and what needs torch (writing ONNX, making an uploaded model
a stored result) runs in a child process: ``python -m components.torchkit.exchange``. A child
rather than the worker: it works the same with the embedded worker and with a Ray cluster
(model files live in the server's store either way), a slow export never holds up a run or a
prediction, and what it costs (importing torch, a few seconds) is paid once per file: an
export is kept beside its model file.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from backend.engine import MODEL, Graph, compute_keys
from backend.engine.provenance import NotAModelFile, Provenance, read_model_file

from .errors import ApiError

log = logging.getLogger("abacus.api")
REPO = Path(__file__).resolve().parents[2]


class ExchangeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def run_exchange(args: list[str], timeout: float) -> None:
    """``python -m components.torchkit.exchange ARGS`` in a child process; raises ExchangeError."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.run([sys.executable, "-m", "components.torchkit.exchange", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ExchangeError("export_timeout", f"it took longer than {timeout:.0f}s") from None
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise ExchangeError("export_failed", lines[-1] if lines else f"exit code {proc.returncode}")


def onnx_file(model_file: Path, timeout: float) -> Path:
    """The model's ONNX export, made once and kept beside it (made again if the model file is newer)."""
    out = model_file.with_suffix(".onnx")
    try:
        if out.stat().st_mtime_ns >= model_file.stat().st_mtime_ns:
            return out
    except FileNotFoundError:
        pass
    run_exchange(["export", str(model_file), str(out)], timeout)   # written whole, or not at all
    return out


def model_info(data: bytes, filename: str | None) -> Provenance:
    """The upload's provenance; a typed 4xx naming the field ``file`` for anything else."""
    try:
        info = read_model_file(data, name=filename)
    except NotAModelFile as err:
        raise ApiError(422 if err.code == "invalid_provenance" else 415, err.code,
                       f"{filename or 'the upload'}: {err}", field="file") from None
    if info.provenance is None:
        raise ApiError(422, "no_provenance", f"{filename or 'the upload'} was saved before Abacus recorded the "
                                             f"graph that made a model: it can predict, but it cannot become a "
                                             f"project", field="file")
    return info.provenance


def provenance_graph(prov: Provenance) -> Graph:
    from pydantic import ValidationError

    try:
        return Graph.model_validate(prov.graph)
    except ValidationError as err:
        raise ApiError(422, "invalid_provenance", f"the model file's graph does not read: "
                                                  f"{err.errors()[0]['msg']}", field="file") from None


def project_name(prov: Provenance, graph: Graph, filename: str | None, accept_language: str | None) -> str:
    """The file's own name, unless it is the download's default (``NODE.pt``): then the graph's
    name (in the person's language when it has two) and the node."""
    stem = Path(filename or "").stem.strip()
    if stem and stem != prov.node:
        return stem[:200]
    name = graph.name
    if isinstance(name, dict):
        zh = (accept_language or "").strip().lower().startswith("zh")
        name = (name.get("zh") if zh else name.get("en")) or next(iter(name.values()), None)
    return f"{name} · {prov.node}"[:200] if name else (stem or prov.node)[:200]


def model_result(services: Any, prov: Provenance, graph: Graph, data: bytes) -> str:
    """Whether this studio holds the model as its node's result ('stored'), made it so now
    ('imported'), or cannot ('absent'): only when the node's cache key, computed here from this
    studio's data, is the one the file records, does the model stand for that node's result."""
    try:
        resolved, validation, path_issues = services.service.check(graph)
        if validation.issues or path_issues:
            return "absent"
        key = compute_keys(resolved, validation, services.registry).get(prov.node)
    except Exception:
        log.exception("from-model: the graph could not be checked")
        return "absent"
    if key is None:
        return "absent"
    if services.results.has(key):
        return "stored"
    comp = services.registry.get(prov.component)
    ports = [p.name for p in getattr(comp, "outputs", ()) if p.type == MODEL]
    if key != prov.key or comp is None or not comp.persist or len(ports) != 1:
        return "absent"
    with tempfile.TemporaryDirectory(prefix="abacus-upload-") as tmp:
        upload = Path(tmp) / "model.pt"
        upload.write_bytes(data)
        try:
            run_exchange(["store", str(upload), str(services.settings.cache_dir), key, prov.node, comp.id, ports[0]],
                         services.settings.export_timeout_s)
        except ExchangeError as err:
            log.warning("from-model: the model could not become the result of %s: %s", prov.node, err.message)
            return "absent"
    return "imported" if services.results.has(key) else "absent"

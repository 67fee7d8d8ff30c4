"""Data roots: dataset folders and weight files may only be read from configured folders.

Relative paths are looked up in each data root (then the working directory); the first
existing match inside a root wins, otherwise the path is taken relative to the first root.
Symlinks are resolved before the check, so a link pointing out of a root is refused.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.engine import Graph

PATH_PARAMS = ("root", "weights_file")


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_path(value: str, roots: list[Path]) -> Path | None:
    """The real absolute path for a param value, or None when it lies outside every root."""
    resolved_roots = [r.resolve() for r in roots]
    raw = Path(value).expanduser()
    candidates = [raw] if raw.is_absolute() else [r / raw for r in roots] + [Path.cwd() / raw]
    real = []
    for c in candidates:
        try:
            real.append((c, c.resolve()))
        except (OSError, RuntimeError):  # a symlink loop, an unreadable folder
            continue
    for c, r in real:
        if _inside(r, resolved_roots) and r.exists():
            return r
    for c, r in real:
        if _inside(r, resolved_roots):
            return r
    return None


def resolve_data_paths(graph: Graph, roots: list[Path]) -> tuple[Graph, list[dict[str, Any]]]:
    """A copy of ``graph`` with every path param made absolute, plus one issue per refused path."""
    out = graph.model_copy(deep=True)
    issues: list[dict[str, Any]] = []
    shown = ", ".join(str(r) for r in roots)
    for node in out.nodes:
        for name in PATH_PARAMS:
            value = node.params.get(name)
            if not isinstance(value, str) or not value.strip():
                continue
            if "\x00" in value:
                resolved = None
            else:
                resolved = resolve_path(value, roots)
            if resolved is None:
                issues.append({"code": "path_outside_data_roots", "node": node.id, "port": None, "param": name,
                               "edge": None,
                               "message": f"{node.id}: {name} '{value}' is outside the data roots ({shown}); "
                                          f"put the files under a data root or start the server with "
                                          f"--data-root"})
            else:
                node.params[name] = str(resolved)
    return out, issues

"""Data roots: dataset folders and weight files may only be read from configured folders.

Relative paths are looked up in each data root (then the working directory); the first
existing match inside a root wins, otherwise the path is taken relative to the first root.
A relative path that starts with a root's own folder name also matches inside that root,
so the templates' ``data/cats_vs_dogs`` finds ``cats_vs_dogs`` in a root named ``data``.
Symlinks are resolved before the check, so a link pointing out of a root is refused.
"""
from __future__ import annotations

import os
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
    if raw.is_absolute():
        candidates = [raw]
    else:
        candidates = [r / raw for r in roots]
        candidates += [r / Path(*raw.parts[1:]) for r in roots if len(raw.parts) > 1 and raw.parts[0] == r.name]
        candidates.append(Path.cwd() / raw)
    for c in candidates:
        # The first candidate that exists decides, so a link pointing out of a root is
        # refused rather than passed over for a path the person did not mean.
        if os.path.lexists(c):
            try:
                real = c.resolve()
            except (OSError, RuntimeError):  # a symlink loop, an unreadable folder
                return None
            return real if _inside(real, resolved_roots) else None
    for c in candidates:
        try:
            real = c.resolve()
        except (OSError, RuntimeError):
            continue
        if _inside(real, resolved_roots):
            return real
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

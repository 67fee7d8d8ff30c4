"""Data roots: dataset folders and weight files may only be read from configured folders.

Relative paths are looked up in each data root (then the working directory); the first
existing match inside a root wins, otherwise the path is taken relative to the first root.
A relative path that starts with a root's own folder name also matches inside that root,
so the templates' ``data/cats_vs_dogs`` finds ``cats_vs_dogs`` in a root named ``data``.
Symlinks are resolved before the check, so a link pointing out of a root is refused.
A blank value is refused too (it would read the worker's working directory), and a param
left out of the graph is resolved from the component's default like any value sent.
A path that does not exist is an issue too (``path_not_found``, with the value as typed and the
roots searched), unless the component makes it itself (``path_may_be_missing``: a dataset's
download); so are external files no param names, such as a backbone's ImageNet weights
(``missing_files``). Both cost a stat or two: validation runs on every edit. The command line
(no roots) keeps its run-time errors for these.
Files *inside* a dataset folder are checked where they are read: the run service tells the
run its roots (``RunSettings.data_roots``) and the dataset component refuses links out.
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


def _reads(params: dict[str, Any], name: str) -> bool:
    """Whether the component reads this path param: a weight file only when weights is 'file'."""
    return name != "weights_file" or params.get("weights", "imagenet") == "file"


def _default(registry: Any, node_type: str, name: str) -> str | None:
    """The component's default for a path param the graph leaves out (``data/cats_vs_dogs``)."""
    comp = registry.get(node_type) if registry is not None else None
    field = getattr(getattr(comp, "Params", None), "model_fields", {}).get(name)
    default = getattr(field, "default", None)
    return default if isinstance(default, str) and default.strip() else None


def _issue(code: str, node: str, name: str | None, message: str,
           params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "node": node, "port": None, "param": name, "edge": None, "message": message,
            "params": params or {}}


def _may_be_missing(comp: Any, params: dict[str, Any], name: str) -> bool:
    """Whether the component makes this path itself when it is absent (a dataset's download)."""
    hook = getattr(comp, "path_may_be_missing", None)
    return bool(hook and hook(params, name))


def _missing_files(comp: Any, node_id: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Issues for the external files a component reads that no path param names (its hook)."""
    hook = getattr(comp, "missing_files", None)
    return [_issue(err.code, node_id, err.param, f"{node_id}: {err}",
                   {k: v for k, v in err.params.items() if k != "param"})
            for err in (hook(params) if hook else [])]


def resolve_data_paths(graph: Graph, roots: list[Path] | None,
                       registry: Any = None) -> tuple[Graph, list[dict[str, Any]]]:
    """A copy of ``graph`` with every path param made absolute, plus one issue per refused path.

    ``roots`` None (the command line) trusts every path but still refuses a blank one;
    ``registry`` supplies the defaults of path params the graph leaves out.
    """
    out = graph.model_copy(deep=True)
    issues: list[dict[str, Any]] = []
    shown = ", ".join(str(r) for r in roots or [])
    for node in out.nodes:
        for name in PATH_PARAMS:
            value = node.params.get(name)
            if value is None and name not in node.params:
                value = _default(registry, node.type, name)
                if value is None:
                    continue
                node.params[name] = value
            if not isinstance(value, str):
                continue
            if not value.strip():
                if _reads(node.params, name):
                    where = "a folder or file under a data root" if roots is not None else "a folder or file"
                    issues.append(_issue("path_required", node.id, name,
                                         f"{node.id}: {name} is empty; give {where} (an empty path would mean "
                                         f"the working directory)"))
                continue
            if roots is None:
                if "\x00" not in value:
                    node.params[name] = str(Path(value).expanduser().resolve())  # the worker may run elsewhere
                continue
            if "\x00" in value:
                resolved = None
            else:
                resolved = resolve_path(value, roots)
            if resolved is None:
                issues.append(_issue("path_outside_data_roots", node.id, name,
                                     f"{node.id}: {name} '{value}' is outside the data roots ({shown}); "
                                     f"put the files under a data root or start the server with "
                                     f"--data-root", {"value": value, "roots": [str(r) for r in roots]}))
                continue
            node.params[name] = str(resolved)
            # One stat: validation runs on every edit. The message names the path as typed and
            # the roots searched, not the joined path the person never wrote.
            if (_reads(node.params, name) and not os.path.exists(resolved)
                    and not _may_be_missing(_component(registry, node.type), node.params, name)):
                kind = "folder" if name == "root" else "file"
                issues.append(_issue("path_not_found", node.id, name,
                                     f"{node.id}: {name} '{value}' was not found: no such {kind} in the data "
                                     f"roots ({shown})", {"value": value, "roots": [str(r) for r in roots]}))
        if roots is not None:   # the command line keeps its run-time errors
            issues += _missing_files(_component(registry, node.type), node.id, node.params)
    return out, issues


def _component(registry: Any, node_type: str) -> Any:
    return registry.get(node_type) if registry is not None else None

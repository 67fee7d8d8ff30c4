"""Evaluation sample images: find a sample in a run's evaluation report and serve a small copy.

The report (an ``EvaluationSummary``, read from the run's reduced summary) lists ``samples``
with paths relative to the dataset root, and since Evaluate version 2 names that root. Older reports do not, so the root then comes from the run's stored graph (the
dataset node that feeds the Evaluate node's images, its ``root`` already made absolute when
the run was created). Either way the image is only read when it resolves inside a data root.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from backend.engine.summaries import EvaluationSummary
from backend.runs.paths import resolve_path

from .errors import ApiError

THUMBNAIL_PX = 256
# Folders a dataset's files may sit under inside the root named in the graph (the layouts the
# cats-vs-dogs component accepts); only needed for reports without their own root.
_LAYOUT_DIRS = ("", "PetImages", "train")


def _upstream(graph: dict[str, Any], node: str, port: str) -> dict[str, Any] | None:
    edge = next((e for e in graph.get("edges", []) if e.get("target") == node and e.get("targetHandle") == port), None)
    if edge is None:
        return None
    return next((n for n in graph.get("nodes", []) if n.get("id") == edge.get("source")), None)


def graph_dataset_root(graph: dict[str, Any], node: str) -> str | None:
    """The ``root`` param of the dataset behind ``node``'s images (Evaluate <- ImageFormat <- dataset)."""
    fmt = _upstream(graph, node, "images")
    dataset = _upstream(graph, fmt["id"], "dataset") if fmt else None
    root = (dataset or {}).get("params", {}).get("root")
    return root if isinstance(root, str) and root else None


def sample_file(report: EvaluationSummary, graph: dict[str, Any], node: str, index: int,
                roots: list[Path]) -> Path:
    """The image file of sample ``index``, checked to lie inside a data root."""
    samples = report.samples
    if index >= len(samples):
        raise ApiError(404, "sample_not_found", f"node '{node}' reports {len(samples)} sample(s); there is no "
                                                f"sample {index}", node=node, field="index")
    rel = samples[index].path
    if not rel or "\x00" in rel:
        raise ApiError(404, "sample_not_found", f"sample {index} of node '{node}' has no image path",
                       node=node, field="index")
    root = report.root
    if root:
        candidates = [Path(root) / rel]
    else:
        base = graph_dataset_root(graph, node)
        if base is None:
            raise ApiError(404, "sample_not_found", f"cannot tell which dataset folder sample {index} of node "
                                                    f"'{node}' comes from", node=node, field="index")
        candidates = [Path(base) / d / rel for d in _LAYOUT_DIRS]
        candidates = [c for c in candidates if c.is_file()] or candidates[:1]
    path = resolve_path(str(candidates[0]), roots)
    if path is None:
        raise ApiError(403, "path_outside_data_roots", f"sample {index} of node '{node}' lies outside the data "
                                                       f"roots; it is not served", node=node, field="index")
    if not path.is_file():
        raise ApiError(404, "sample_missing", f"the image of sample {index} of node '{node}' is no longer on "
                                              f"disk: {rel}", node=node, field="index")
    return path


def thumbnail(path: Path, size: int = THUMBNAIL_PX) -> tuple[bytes, str]:
    """(bytes, media type): the image scaled to fit ``size`` pixels, as JPEG (PNG when it has alpha)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster for big photos
            img.thumbnail((size, size))
            alpha = img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)
            out = io.BytesIO()
            if alpha:
                img.convert("RGBA").save(out, format="PNG", optimize=True)
                return out.getvalue(), "image/png"
            img.convert("RGB").save(out, format="JPEG", quality=85)
            return out.getvalue(), "image/jpeg"
    except Exception as err:  # unreadable, truncated, too large (decompression bomb): never a 500
        raise ApiError(409, "sample_unreadable", f"cannot read the sample image {path.name}: "
                                                 f"{type(err).__name__}: {err}") from None

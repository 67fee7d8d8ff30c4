"""Predictions from a saved model file, for the CLI and the server."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from components.data.cats_vs_dogs import IMAGE_SUFFIXES


def _expand(inputs: list[str]) -> list[Path]:
    paths: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            paths.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            paths.append(p)
    return paths


def predict_arrays(model, trained, images) -> list[dict[str, Any]]:
    """Class probabilities for uint8 HxWxC arrays already formatted to the model's input."""
    import numpy as np
    import torch

    from components.torchkit.train import to_float

    with torch.no_grad():
        out = model(to_float(torch.from_numpy(np.stack(images)))).float()
    probs = trained.probabilities(out)
    rows = []
    for row in probs.tolist():
        best = max(range(len(row)), key=row.__getitem__)
        rows.append({"class": trained.classes[best], "probability": row[best],
                     "probabilities": dict(zip(trained.classes, row))})
    return rows


def predict_paths(model_file: str, inputs: list[str], batch_size: int = 32) -> Iterator[dict[str, Any]]:
    from components.torchkit.images import format_image
    from components.torchkit.model import load_model_file

    model, trained = load_model_file(model_file)
    h, w, c = trained.input_shape
    paths = _expand(inputs)
    for start in range(0, len(paths), batch_size):
        chunk, arrays, errors = paths[start:start + batch_size], [], {}
        for p in chunk:
            try:
                arrays.append(format_image(p, h, w, c))
            except Exception as err:
                errors[p] = f"cannot read image: {type(err).__name__}: {err}"
        rows = iter(predict_arrays(model, trained, arrays) if arrays else [])
        for p in chunk:
            yield {"path": str(p), "error": errors[p]} if p in errors else {"path": str(p), **next(rows)}

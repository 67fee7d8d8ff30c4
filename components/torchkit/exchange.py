"""Model files in and out: ONNX export, and a model file imported as its node's stored result.

Both need torch, so the studio server (which never imports it) runs them in a child process:
``python -m components.torchkit.exchange export MODEL OUT`` and ``... store MODEL CACHE_DIR KEY
NODE COMPONENT PORT``; the command line calls the functions directly.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from backend.engine.storage import write_file

from ..values import TrainedModel
from .model import fused_for_inference, model_from_trained, read_model_file

ONNX_FORMAT = "abacus.onnx/1"
ONNX_OPSET = 17
PIXEL_SCALE = 1 / 255


class _Probabilities(nn.Module):
    """The model and its output activation: class probabilities, as ``abacus predict`` gives them."""

    def __init__(self, model: nn.Module, trained: TrainedModel) -> None:
        super().__init__()
        self.model = model
        self.trained = trained

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.trained.probabilities(self.model(image))


def output_activation(trained: TrainedModel) -> str:
    units = trained.output_shape[-1] if trained.output_shape else 1
    if not trained.from_logits:
        return "as the last layer gives them"
    return "sigmoid" if units == 1 else "softmax"


def normalization(model: nn.Module) -> list[dict[str, Any]]:
    """The input normalization the model does itself (a backbone's first stage), as numbers."""
    found = []
    for name, module in model.named_modules():
        mean, std = getattr(module, "mean", None), getattr(module, "std", None)
        if isinstance(mean, torch.Tensor) and isinstance(std, torch.Tensor):
            found.append({"stage": name, "kind": "mean_std", "mean": mean.flatten().tolist(),
                          "std": std.flatten().tolist()})
            continue
        scale, offset = getattr(module, "scale", None), getattr(module, "offset", None)
        if isinstance(scale, float) and isinstance(offset, float):
            found.append({"stage": name, "kind": "scale_offset", "scale": scale, "offset": offset})
    return found


def onnx_metadata(model: nn.Module, trained: TrainedModel, provenance: Any) -> dict[str, str]:
    """What an ONNX consumer needs to feed the model and read its answer (metadata_props)."""
    h, w, c = trained.input_shape
    activation = output_activation(trained)
    meta = {
        "abacus.format": ONNX_FORMAT,
        "classes": json.dumps(list(trained.classes), ensure_ascii=False),
        "input_size": json.dumps({"height": h, "width": w, "channels": c}),
        "input": json.dumps({"name": "image", "dtype": "float32", "layout": "NCHW", "shape": ["batch", c, h, w],
                             "color": "RGB" if c == 3 else "grayscale"}),
        "preprocessing": json.dumps({
            "resize": f"scale to cover {w}x{h} keeping the proportions (bilinear), then crop the centre",
            "pixels": "uint8 values divided by 255: the input is in [0, 1]"}),
        "normalization": json.dumps({"pixel_scale": PIXEL_SCALE, "input_range": [0, 1],
                                     "in_model": normalization(model)}),
        "output": json.dumps({"name": "probabilities", "shape": ["batch", len(trained.classes)],
                              "activation": activation, "columns": list(trained.classes)}, ensure_ascii=False),
    }
    if provenance is not None:
        meta["abacus.provenance"] = provenance.model_dump_json()
    return meta


def export_onnx(model_file: str | os.PathLike, out: str | os.PathLike) -> dict[str, str]:
    """Write the model as ONNX to ``out`` (whole or not at all): float32 NCHW RGB in [0, 1] in,
    class probabilities out (the model's own activation), batch size free; input size,
    normalization and class names in ``metadata_props``. Returns that metadata."""
    try:
        import onnx
    except ImportError:
        raise RuntimeError("ONNX export needs the onnx package (pip install onnx)") from None
    trained, provenance = read_model_file(model_file)
    model = model_from_trained(trained).eval()
    # the inference copy (batch normalization folded into the convolutions), as predict runs it
    wrapped = _Probabilities(fused_for_inference(model), trained).eval()
    h, w, c = trained.input_shape
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".onnx-") as tmp:
        raw = Path(tmp) / "model.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            # the TorchScript exporter: the torch.export one needs onnxscript as well
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapped, (torch.rand(1, c, h, w),), str(raw), dynamo=False,
                              input_names=["image"], output_names=["probabilities"],
                              dynamic_axes={"image": {0: "batch"}, "probabilities": {0: "batch"}},
                              opset_version=ONNX_OPSET, do_constant_folding=True)
        proto = onnx.load(str(raw))
        meta = onnx_metadata(model, trained, provenance)
        del proto.metadata_props[:]
        for key, value in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        proto.producer_name = "abacus"
        proto.doc_string = f"Abacus model: {', '.join(trained.classes)} from {h}x{w}x{c} RGB images"
        write_file(out, proto.SerializeToString())
    return meta


def store_model_result(model_file: str | os.PathLike, cache_dir: str | os.PathLike, key: str, node: str,
                       component: str, port: str) -> str:
    """Make a model file the stored result of ``node`` under ``key`` (its weights checked against
    its architecture first): 'stored' when the store held one already, else 'imported'."""
    from backend.store.artifacts import FileResultStore

    store = FileResultStore(cache_dir)
    if store.has(key):
        return "stored"
    trained, _ = read_model_file(model_file)
    model_from_trained(trained)   # the weights fit the architecture, or this raises
    target = store.artifact_dir(key) / "model.pt"
    with open(model_file, "rb") as src:
        write_file(target, lambda f: shutil.copyfileobj(src, f))
    trained.model_file = str(target)
    trained.weights_in_model_file = True   # the stored result refers to the file for them, as a trainer's does
    store.save(key, node, component, {port: trained})
    return "imported"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["export"] and len(args) == 3:
            export_onnx(args[1], args[2])
            print(json.dumps({"ok": True}))
        elif args[:1] == ["store"] and len(args) == 7:
            print(json.dumps({"ok": True, "result": store_model_result(*args[1:])}))
        else:
            print("usage: python -m components.torchkit.exchange export MODEL OUT | "
                  "store MODEL CACHE_DIR KEY NODE COMPONENT PORT", file=sys.stderr)
            return 2
    except Exception as err:
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

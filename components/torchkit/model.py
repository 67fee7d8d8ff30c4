"""Building torch models from layer specs, and self-contained model files."""
from __future__ import annotations

import functools
import os
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from backend.engine.provenance import MODEL_FORMAT, Provenance
from backend.engine.storage import write_file
from backend.engine.values import decode, encode

from ..values import LayerSpec, TrainedModel

STOCHASTIC = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


def _registry():
    from components import registry

    return registry


def stage_name(node: str, suffix: str) -> str:
    return f"{node}:{suffix}" if suffix else node


class StagedModel(nn.Sequential):
    """The whole model as a flat sequence of named stages (backbone layers are stages)."""

    def __init__(self, layers: list[LayerSpec], pretrained: bool = True):
        registry = _registry()
        stages: OrderedDict[str, nn.Module] = OrderedDict()
        self_frozen: set[str] = set()
        backbone_nodes: dict[str, list[str]] = {}
        for layer in layers:
            comp = registry.get(layer.component)
            if comp is None:
                raise ValueError(f"unknown component {layer.component} in model")
            params = comp.Params.model_validate(layer.params)
            if comp.backbone:
                built = comp.build(params, tuple(layer.in_shape), pretrained=pretrained)
                backbone_nodes[layer.node] = list(comp.layer_names)
            else:
                built = comp.build(params, tuple(layer.in_shape))
            frozen = comp.frozen_stages(params)
            for suffix, module in built:
                name = stage_name(layer.node, suffix)
                stages[name] = module
                if suffix in frozen:
                    self_frozen.add(name)
        super().__init__(stages)
        self.initially_frozen = self_frozen
        self.backbone_nodes = backbone_nodes

    def stage_names(self) -> list[str]:
        return [name for name, _ in self.named_children()]

    def set_trainable(self, trainable: set[str]) -> None:
        for name, module in self.named_children():
            for p in module.parameters():
                p.requires_grad_(name in trainable)

    def trainable_stages(self) -> list[str]:
        return [name for name, m in self.named_children()
                if any(p.requires_grad for p in m.parameters())]


def stage_is_stochastic(module: nn.Module) -> bool:
    return any(isinstance(m, STOCHASTIC) and m.p > 0 for m in module.modules())


def frozen_prefix_length(model: StagedModel) -> int:
    """How many leading stages have nothing to train and give the same output every time."""
    n, weighty = 0, False
    for _, module in model.named_children():
        if any(p.requires_grad for p in module.parameters()) or stage_is_stochastic(module):
            break
        weighty = weighty or any(True for _ in module.parameters())
        n += 1
    # a prefix of parameter-free stages (input normalization) costs less to recompute than to store
    return n if weighty else 0


def fused_for_inference(module: nn.Module) -> nn.Module:
    """A copy for inference only, with batch normalization folded into the convolutions where
    the layers know how (``fuse_for_inference``): the same outputs, about 1.6x faster on a CPU."""
    import copy

    fused = copy.deepcopy(module).eval()
    for m in fused.modules():
        fuse = getattr(m, "fuse_for_inference", None)
        if callable(fuse):
            fuse()
    return fused


def model_from_trained(trained: TrainedModel, device: torch.device | str = "cpu") -> StagedModel:
    model = StagedModel(trained.layers, pretrained=False)
    model.load_state_dict(trained.state)
    return model.to(device)


def model_provenance(ctx: Any, trained: TrainedModel) -> Provenance | None:
    """The provenance record of a model file ``ctx``'s node saves: the run's story (see
    ``Context.provenance``) with the metrics of the epoch whose weights the file holds."""
    record = getattr(ctx, "provenance", None)
    if not callable(record):
        return None
    epoch = trained.best_epoch or len(trained.history) or None
    metrics = trained.history[epoch - 1] if epoch and epoch <= len(trained.history) else {}
    return record(metrics=dict(metrics), epoch=epoch, epochs=len(trained.history))


def save_model_file(path: str | os.PathLike, trained: TrainedModel, provenance: Provenance | None = None) -> Path:
    """One file with everything needed to predict (architecture, weights, classes), to train
    on (trainable stages, optimizers) and to tell where it comes from (``provenance``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": MODEL_FORMAT,
        "layers": encode(trained.layers),
        "state": {k: v.detach().cpu() for k, v in trained.state.items()},
        "classes": list(trained.classes),
        "input_shape": list(trained.input_shape),
        "output_shape": list(trained.output_shape),
        "loss": trained.loss,
        "history": trained.history,
        "best_epoch": trained.best_epoch,
        # the rest of the trained value, so that an imported file becomes its node's result as it was
        "trainable": list(trained.trainable),
        "phase": trained.phase,
        "optimizer": encode(trained.optimizer),
        "trained_with": encode(trained.trained_with),
    }
    if provenance is not None:   # plain JSON data: the file still loads with weights_only=True
        payload["provenance"] = provenance.model_dump(mode="json")
    # through a Python file object: a full disk surfaces as an OSError (ENOSPC), and the
    # partial file is removed (torch's own file writer says only "unexpected pos")
    return write_file(path, lambda f: torch.save(payload, f))


def read_model_file(path: str | os.PathLike) -> tuple[TrainedModel, Provenance | None]:
    """The trained value a model file holds (weights included), and its provenance (None in
    files saved before it was recorded). Raises ValueError for anything else."""
    from backend.engine.provenance import NotAModelFile, provenance_of

    try:
        payload: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{path} is not a readable model file: {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path} is not an Abacus model file (format {MODEL_FORMAT})")
    try:
        provenance = provenance_of(payload)
    except NotAModelFile:   # the weights are still good to predict with
        provenance = None
    trained = TrainedModel(layers=decode(payload["layers"]), state=payload["state"],
                           classes=payload["classes"], input_shape=tuple(payload["input_shape"]),
                           output_shape=tuple(payload["output_shape"]), trainable=list(payload.get("trainable", [])),
                           loss=payload.get("loss", "binary_crossentropy"),
                           optimizer=decode(payload.get("optimizer")), trained_with=decode(payload.get("trained_with")),
                           history=payload.get("history", []), best_epoch=payload.get("best_epoch"),
                           model_file=str(path), phase=payload.get("phase", "train"))
    return trained, provenance


def load_model_file(path: str | os.PathLike) -> tuple[StagedModel, TrainedModel]:
    """A model to predict with (an inference copy: batch normalization folded) and its value."""
    trained, _ = read_model_file(path)
    return fused_for_inference(model_from_trained(trained)), trained


def pick_device(setting: str = "auto") -> torch.device:
    """The torch device a run setting names (``RunSettings.device``): auto takes a GPU when there is one."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(setting)


@functools.cache
def _tune_cpu_process() -> None:
    """Once per process: keep large freed buffers (a 33 MB gradient each step) in the heap
    instead of unmapping and re-faulting them (glibc's mmap and trim thresholds; 39 -> 30 ms a
    step for the tutorial's head). Subnormal floats are not flushed to zero: that is global
    processor state, and it would change the arithmetic of everything else in the process
    (the RMSprop here avoids the slow square roots of them by itself)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 32 * 2**20)   # M_MMAP_THRESHOLD: glibc's maximum
            libc.mallopt(-1, 256 * 2**20)  # M_TRIM_THRESHOLD
        except (OSError, AttributeError):  # not glibc (musl): nothing to tune
            pass


def configure_threads(threads: int = 0) -> None:
    """Threads for intra-op work (``RunSettings.threads``); 0 uses every core (torch
    defaults to physical cores)."""
    _tune_cpu_process()
    wanted = threads or (os.cpu_count() or 1)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)

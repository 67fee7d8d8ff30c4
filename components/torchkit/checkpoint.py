"""A trainer's checkpoints: everything needed to continue after the last completed epoch.

One file per trainer and cache key, in the node's artifact folder (``checkpoint-epochNNNN.pt``):
the trainable stages' weights, the optimizer's state, the random number generators (torch's,
CUDA's, numpy's, Python's, and the generator of the batch order and augmentation), the
history with the kept epoch after each epoch, and the best epoch so far with its weights.
Written whole or not at all (a temporary file, fsynced, then renamed), so a crash while
writing leaves the previous checkpoint; once the new one is in place the older ones go.

A resumed run (``RunSettings.resume``) of the same graph has the same cache key, so it finds
the checkpoint; with the RNG states restored it continues exactly as the uninterrupted run
would have (on a CPU, bit for bit).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from backend.engine.storage import write_file

FORMAT = 1
PATTERN = re.compile(r"^checkpoint-epoch(\d+)\.pt$")
PREFIX = "checkpoint-epoch"


@dataclass
class Checkpoint:
    """The state of a trainer after ``epoch`` completed epochs."""

    key: str
    epoch: int
    epochs: int
    weights: dict[str, torch.Tensor]            # the trainable stages' entries of the model's state
    optimizer: dict[str, Any]
    rng: dict[str, Any]
    history: list[dict[str, float]]
    best_epochs: list[int | None] = field(default_factory=list)   # each epoch's node.metrics best_epoch
    best: dict[str, Any] | None = None          # {"epoch", "rank", "weights"} of keep-best

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "key": self.key, "epoch": self.epoch, "epochs": self.epochs,
                "weights": self.weights, "optimizer": self.optimizer, "rng": self.rng, "history": self.history,
                "best_epochs": self.best_epochs, "best": self.best}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Checkpoint":
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown checkpoint format {data.get('format')!r}")
        return cls(key=data["key"], epoch=int(data["epoch"]), epochs=int(data["epochs"]), weights=data["weights"],
                   optimizer=data["optimizer"], rng=data["rng"], history=list(data["history"]),
                   best_epochs=list(data.get("best_epochs") or []), best=data.get("best"))


def path_for(folder: Path, epoch: int) -> Path:
    return Path(folder) / f"{PREFIX}{epoch:04d}.pt"


def checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """The complete checkpoints in ``folder`` (temporary files of a write cut short are not), by epoch."""
    found = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return []
    for p in entries:
        m = PATTERN.match(p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def save(folder: Path, checkpoint: Checkpoint) -> Path:
    """Write the checkpoint atomically and durably, then remove every other one (and what
    writes cut short left behind)."""
    data = checkpoint.to_dict()
    path = write_file(path_for(folder, checkpoint.epoch), lambda f: torch.save(data, f), durable=True)
    prune(folder, keep=path)
    return path


def prune(folder: Path, keep: Path | None = None) -> None:
    """Remove the checkpoints but ``keep``, and temporary files of checkpoint writes."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return
    for p in entries:
        if not p.name.startswith(PREFIX) or (keep is not None and p.name == keep.name):
            continue
        try:
            p.unlink()
        except OSError:
            pass


def latest(folder: Path, key: str) -> tuple[Checkpoint | None, str | None]:
    """The newest checkpoint that loads and belongs to ``key``; with what was wrong with a
    newer one that did not (None: nothing was)."""
    problem = None
    for epoch, path in reversed(checkpoints(folder)):
        try:
            ck = Checkpoint.from_dict(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as err:   # a damaged file: an older one (if any) still serves
            problem = problem or f"{path.name} does not load ({type(err).__name__}: {err})"
            continue
        if ck.key != key or ck.epoch != epoch:
            problem = problem or f"{path.name} belongs to another training"
            continue
        return ck, problem
    return None, problem


# ------------------------------------------------------------------------------- the parts
def trainable_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state entries of the stages that train (the others never change while training:
    frozen stages and batch normalization run in inference mode), copied to the CPU."""
    out: dict[str, torch.Tensor] = {}
    for name, child in model.named_children():
        if any(p.requires_grad for p in child.parameters()):
            for k, v in child.state_dict().items():
                out[f"{name}.{k}"] = v.detach().to("cpu", copy=True)
    return out


def trainable_keys(model: nn.Module) -> set[str]:
    """The names ``trainable_weights`` gives, without copying anything."""
    return {f"{name}.{k}" for name, child in model.named_children()
            if any(p.requires_grad for p in child.parameters()) for k in child.state_dict()}


def subset(state: dict[str, torch.Tensor], like: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The entries of ``state`` that ``like`` has, on the CPU."""
    return {k: state[k].detach().cpu() for k in like if k in state}


def rng_state(gen: torch.Generator, device: torch.device) -> dict[str, Any]:
    """Every random number generator a training epoch draws from."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(), "generator": gen.get_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": random.getstate(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict[str, Any], gen: torch.Generator, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    gen.set_state(state["generator"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)

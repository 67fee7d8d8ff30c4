"""The training loop, the frozen-prefix feature cache, and evaluation."""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from backend.engine import Cancelled, NodeError
from backend.engine.summaries import CacheNote
from backend.engine.settings import AmpSetting

from ..optimizers.base import build_optimizer
from ..values import FormattedImages, OptimizerSpec, TrainedModel
from . import cachefiles, checkpoint
from . import variants as fixed
from .callbacks import CallbackConfig, Callbacks
from .images import load_split
from .model import StagedModel, frozen_prefix_length, fused_for_inference, model_provenance, save_model_file
from .precision import CHOICES, Choice, autocast as _autocast, choose

EPS = 1e-7  # Keras' probability clamp


@dataclass
class FitConfig:
    batch_size: int
    epochs: int
    loss: str
    seed: int
    feature_cache: bool = True
    keep_best: bool = True
    callbacks: CallbackConfig = field(default_factory=CallbackConfig)   # early stopping, lr on plateau (off)


# ------------------------------------------------------------------------------ data
def to_float(batch: torch.Tensor) -> torch.Tensor:
    """uint8 NxHxWxC -> float N x C x H x W in [0, 1]. The memory stays NHWC, which is
    channels-last for the convolutions (the layout GPUs are fastest with)."""
    return batch.permute(0, 3, 1, 2).float().div_(255.0)


def to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a batch; uint8 images travel as uint8 (4x fewer bytes) and become floats there."""
    x = x.to(device, non_blocking=True)
    return to_float(x) if x.dtype == torch.uint8 else x


CPU_BATCH_PIXELS = 16 * 150 * 150  # pixels per inference batch on a CPU


def inference_batch(device: torch.device, pixels: int | None = None) -> int:
    """Images per forward pass when nothing trains: large on a GPU; on a CPU about 360,000
    pixels, so that a batch's activations stay in the caches, and at least 16 images.
    Measured with EfficientNet-Lite0, batches alternating: at 150 px 8 / 16 / 32 / 64 images
    6.4 / 6.0 / 6.2 / 8.4 ms an image; at 64 px (validation, BN not folded) 20 / 64 / 96 / 160
    images 1.9 / 1.6 / 1.9 / 1.7 ms an image, against 2.3 at 16."""
    if device.type == "cuda":
        return 256
    return max(16, min(256, CPU_BATCH_PIXELS // pixels)) if pixels else 16


def _pixels(images: torch.Tensor) -> int | None:
    """Pixels per image of a uint8 NxHxWxC batch (None for features)."""
    return images.shape[1] * images.shape[2] if images.dtype == torch.uint8 and images.dim() == 4 else None


def _stage_on_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """On a GPU keep a whole split in device memory when it fits easily, else pin it."""
    if device.type != "cuda":
        return x
    free, _ = torch.cuda.mem_get_info(device)
    return x.to(device) if x.numel() * x.element_size() < free // 4 else x.pin_memory()


def augment(x: torch.Tensor, mode: str, gen: torch.Generator) -> torch.Tensor:
    """Random flips (and small rotations and zooms) of a float NCHW batch."""
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1).to(x.device), x.flip(3), x)
    if mode == "flip_rotate_zoom":
        angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(20)
        zoom = 1 + (torch.rand(n, generator=gen) * 2 - 1) * 0.2
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([torch.stack([cos, -sin, torch.zeros(n)], 1),
                             torch.stack([sin, cos, torch.zeros(n)], 1)], 1).to(x)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, padding_mode="reflection", align_corners=False)
    return x


def images_cache_dir(ctx, fmt: FormattedImages) -> Path:
    return ctx.artifact_dir(fmt.cache_key)


def load_images(ctx, fmt: FormattedImages, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    cache_dir = images_cache_dir(ctx, fmt)
    reused = cachefiles.exists(cache_dir / f"{split}.images.npy")
    t0 = time.time()
    images, labels, _ = load_split(fmt, split, cache_dir,
                                   progress=lambda i, n: ctx.progress(i, n, unit="image", phase=f"decode {split}",
                                                                      code="decode", split=split))
    meta = json.loads((cache_dir / f"{split}.json").read_text())
    if not reused:
        seconds = round(time.time() - t0, 1)
        ctx.log(f"decoded {len(labels)} {split} images in {seconds:.1f}s "
                f"({images.nbytes / 2**20:.0f} MB uint8 cache)",
                cache=CacheNote(cache="images", split=split, built=True, bytes=int(images.nbytes)),
                code="images_decoded", params={"count": len(labels), "split": split, "seconds": seconds,
                                               "mb": round(images.nbytes / 2**20)})
    if meta["skipped"]:
        ctx.log(f"{len(meta['skipped'])} {split} image(s) could not be decoded and were skipped",
                level="warning", skipped=meta["skipped"][:20], code="images_undecodable",
                params={"count": len(meta["skipped"]), "split": split})
    if len(labels) == 0:
        raise NodeError(f"the {split} split has no readable images", code="split_empty", params={"split": split})
    return torch.from_numpy(np.array(images)), torch.from_numpy(labels)


# ----------------------------------------------------------------------- feature cache
def _shape_text(feats: torch.Tensor) -> str:
    """A sample's shape as a person reads it (1280x5x5), for the log's params."""
    return "x".join(str(d) for d in feats.shape[1:])


def _state_digest(modules: list[nn.Module]) -> str:
    h = hashlib.sha256()
    for module in modules:
        for name, t in module.state_dict().items():
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:32]


@torch.no_grad()
def run_prefix(stages: list[nn.Module], images: torch.Tensor, device: torch.device, precision: str,
               keep: list[int], batch: int | None = None, progress=None,
               variant: fixed.Variant | None = None) -> dict[int, torch.Tensor]:
    """Outputs after the first k stages, for each k in ``keep``, in one pass over the images
    (each image as ``variant`` of it, when one is given)."""
    for stage in stages:
        stage.eval()
    outs: dict[int, list[torch.Tensor]] = {k: [] for k in keep}
    last = max(keep)
    batch = batch or inference_batch(device, _pixels(images))
    for start in range(0, len(images), batch):
        x = to_device(images[start:start + batch], device)
        if variant is not None and not variant.plain:
            x = fixed.transform(x, variant)
        with _autocast(device, precision):
            for i, stage in enumerate(stages[:last], 1):
                x = stage(x)
                if i in outs:
                    outs[i].append(x.float().cpu())
        if progress:
            progress(min(start + batch, len(images)), len(images))
    return {k: torch.cat(v) for k, v in outs.items()}


def _features_key(model: StagedModel, prefix_len: int, fmt: FormattedImages, split: str,
                  digests: list[str], precision: str, variant: fixed.Variant | None = None) -> str:
    # the precision the prefix ran in: features computed under bf16 autocast differ from fp32
    # ones, so they are kept apart (they are stored as float32 either way)
    fields: dict[str, Any] = {
        "images": fmt.cache_key, "split": split, "stages": model.stage_names()[:prefix_len],
        "state": digests[:prefix_len], "dtype": "float32", "computed_in": precision,
    }
    if variant is not None and not variant.plain:   # the plain image's features keep their key
        fields["variant"] = {"name": variant.name, "flip": variant.flip, "crop": variant.crop}
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]


def cached_features(ctx, model: StagedModel, prefix_len: int, fmt: FormattedImages, split: str,
                    images: torch.Tensor, device: torch.device, precision: str, also_keep: tuple[int, ...] = (),
                    variant: fixed.Variant | None = None) -> torch.Tensor:
    """The frozen prefix's outputs for a split, computed once in ``precision`` and kept under a
    cache key.

    ``also_keep`` names shorter prefixes whose outputs are saved on the way (the point where a
    later fine-tuning will start), so that phase needs no second pass through the backbone.
    ``variant``: the outputs for that fixed augmentation of each image (its own cache key).
    """
    stages = list(model.children())
    names = model.stage_names()
    digests = [_state_digest([s]) for s in stages[:prefix_len]]
    key = _features_key(model, prefix_len, fmt, split, digests, precision, variant)
    path = ctx.artifact_dir(key) / "features.npy"
    named = variant is not None and not variant.plain
    of = f" ({variant.name})" if named else ""
    if cachefiles.exists(path):
        feats = torch.from_numpy(cachefiles.load(path))
        ctx.log(f"feature cache reused for {split}{of}: {tuple(feats.shape[1:])} after {names[prefix_len - 1]}, "
                f"{feats.numel() * 4 / 2**20:.0f} MB",
                cache=CacheNote(cache="features", split=split, built=False, stage=names[prefix_len - 1],
                                bytes=feats.numel() * 4, key=key, precision=precision,
                                variant=variant.name if named else None),
                code="features_reused", params={"split": split, "shape": _shape_text(feats),
                                                "stage": names[prefix_len - 1],
                                                "mb": round(feats.numel() * 4 / 2**20),
                                                **({"variant": variant.name} if named else {})})
        return feats
    t0 = time.time()
    extra = {k: _features_key(model, k, fmt, split, digests, precision, variant)
             for k in also_keep if 0 < k < prefix_len}
    extra = {k: kk for k, kk in extra.items() if not cachefiles.exists(ctx.artifact_dir(kk) / "features.npy")}
    outs = run_prefix([fused_for_inference(s) for s in stages[:prefix_len]], images, device, precision,
                      [prefix_len, *extra],
                      progress=lambda i, n: ctx.progress(i, n, unit="image", phase=f"features {split}{of}",
                                                         code="features", split=split),
                      variant=variant)
    for k, kk in [(prefix_len, key), *extra.items()]:
        # written while training goes on; this process reads the array until the file is whole
        cachefiles.save_later(ctx.artifact_dir(kk) / "features.npy", outs[k].numpy())
    feats = outs[prefix_len]
    seconds = round(time.time() - t0, 1)
    ctx.log(f"feature cache built for {split}{of}: {tuple(feats.shape[1:])} after {names[prefix_len - 1]}, "
            f"{feats.numel() * 4 / 2**20:.0f} MB in {seconds:.1f}s"
            + (f" (also kept the output of {', '.join(names[k - 1] for k in extra)} for fine-tuning)" if extra else ""),
            cache=CacheNote(cache="features", split=split, built=True, stage=names[prefix_len - 1],
                            bytes=feats.numel() * 4, key=key, also_kept=[names[k - 1] for k in extra],
                            precision=precision, variant=variant.name if named else None, seconds=seconds),
            code="features_built", params={"split": split, "shape": _shape_text(feats), "stage": names[prefix_len - 1],
                                           "mb": round(feats.numel() * 4 / 2**20), "seconds": seconds,
                                           "also_kept": ", ".join(names[k - 1] for k in extra),
                                           **({"variant": variant.name} if named else {})})
    return feats


# ------------------------------------------------------------------------------ loss
def make_loss(kind: str, from_logits: bool):
    if kind == "binary_crossentropy":
        def loss(out, y):
            out = out.reshape(-1).float()
            if from_logits:
                return F.binary_cross_entropy_with_logits(out, y.float())
            p = out.clamp(EPS, 1 - EPS)
            return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()

        def correct(out, y):
            out = out.reshape(-1)
            return ((out > (0.0 if from_logits else 0.5)).long() == y).sum().item()
    else:
        def loss(out, y):
            out = out.float()
            return F.cross_entropy(out, y) if from_logits else F.nll_loss(torch.log(out.clamp_min(EPS)), y)

        def correct(out, y):
            return (out.argmax(1) == y).sum().item()
    return loss, correct


def _set_train_mode(module: nn.Module) -> None:
    """Train mode, except stages with nothing to train: frozen layers run in inference mode
    (as in Keras), which also keeps their output equal to the cached features. Batch
    normalization stays in inference mode too, also in unfrozen backbone layers: updating its
    ImageNet statistics from small batches undoes the pretraining (Keras' fine-tuning advice)."""
    module.train()
    for child in module.children():
        if not any(p.requires_grad for p in child.parameters()):
            child.eval()
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


def amp_dtype(device: torch.device, amp: AmpSetting = "auto") -> str:
    """'bfloat16' where forward passes run under bf16 autocast, else 'float32', without
    measuring (trainers measure: ``precision.choose``).

    ``amp`` is the run's setting (``RunSettings.amp``, ABACUS_AMP for the studio): auto (and
    measure, here) uses bf16 on GPUs that support it, off never. bf16 also uses it on a CPU:
    it pays off only on CPUs with bf16 instructions, and it lets the CPU tests run the
    mixed-precision path the GPUs take."""
    if amp == "off":
        return "float32"
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return "bfloat16"
    if device.type == "cpu" and amp == "bf16":
        return "bfloat16"
    return "float32"


@torch.no_grad()
def _score(net: nn.Module, x: torch.Tensor, y: torch.Tensor, device, precision: str, loss_fn, correct_fn,
           batch: int) -> tuple[float, float, torch.Tensor]:
    net.eval()
    total_loss, total_correct, outs = 0.0, 0, []
    for start in range(0, len(x), batch):
        xb = x[start:start + batch]
        xb = to_device(xb, device)
        yb = y[start:start + batch].to(device)
        with _autocast(device, precision):
            out = net(xb)
        out = out.float()
        total_loss += loss_fn(out, yb).item() * len(yb)
        total_correct += correct_fn(out, yb)
        outs.append(out.cpu())
    return total_loss / len(x), total_correct / len(x), torch.cat(outs)


# ------------------------------------------------------------------------------ fit
@dataclass
class _TrainingInputs:
    """What the epochs run on: the part of the model that runs each batch, and its splits."""
    head: nn.Module
    train_x: torch.Tensor | list[torch.Tensor]   # a list: each fixed variant's cached features
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    augmentation: str  # random augmentation of each batch: "none" when training from cached features
    precision: str     # what the feature pass and the epochs run in ("float32" or "bfloat16")
    variants: tuple[fixed.Variant, ...] | None = None  # fixed variants, one drawn per image and epoch


@dataclass
class _BestEpoch:
    """The epoch with the highest validation accuracy (lower validation loss breaks a tie, and
    the earlier epoch a full tie), with its weights."""
    rank: tuple[float, float] | None = None
    epoch: int | None = None
    state: dict[str, torch.Tensor] | None = None

    def offer(self, epoch: int, metrics: dict[str, float], state: dict[str, torch.Tensor]) -> None:
        rank = (metrics["val_accuracy"], -metrics["val_loss"])
        if self.rank is None or rank > self.rank:
            self.rank, self.epoch, self.state = rank, epoch, state


def fit(ctx, model: StagedModel, fmt: FormattedImages, opt_spec: OptimizerSpec, cfg: FitConfig,
        device: torch.device, trained_template: TrainedModel, keep_points: tuple[int, ...] = ()) -> TrainedModel:
    """Train ``model`` on the formatted images, validating after every epoch, and return it
    (with the best epoch's weights unless ``cfg.keep_best`` is off) with its history."""
    inputs = _training_inputs(ctx, model, fmt, cfg, device, keep_points)
    loss_fn, correct_fn = make_loss(cfg.loss, trained_template.from_logits)
    precision = inputs.precision
    optimizer = build_optimizer(opt_spec, [p for p in inputs.head.parameters() if p.requires_grad])
    gen = torch.Generator().manual_seed(cfg.seed)  # batch order and augmentation
    torch.manual_seed(cfg.seed)  # dropout
    eval_batch = max(inference_batch(device, fmt.height * fmt.width), cfg.batch_size)
    history: list[dict[str, float]] = []
    best_epochs: list[int | None] = []   # each epoch's kept epoch, as its node.metrics said
    best, last_state = _BestEpoch(), None
    callbacks = Callbacks(cfg.callbacks)
    if ctx.settings.resume:
        resumed = _resume(ctx, model, optimizer, gen, device, cfg)
        if resumed is not None:
            history, best_epochs, best, last_state = resumed
            callbacks.replay(history)   # a run that had stopped early stays stopped
    try:
        for epoch in range(len(history) + 1, cfg.epochs + 1):
            if callbacks.stopped_epoch is not None:
                break
            loss, accuracy = _train_epoch(ctx, inputs, optimizer, loss_fn, correct_fn, gen, device, precision,
                                          cfg.batch_size, phase=f"epoch {epoch}/{cfg.epochs}",
                                          epoch=epoch, epochs=cfg.epochs)
            val_loss, val_accuracy, _ = _score(inputs.head, inputs.val_x, inputs.val_y, device, precision,
                                               loss_fn, correct_fn, eval_batch)
            metrics = {"loss": loss, "accuracy": accuracy, "val_loss": val_loss, "val_accuracy": val_accuracy}
            history.append(metrics)
            last_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best.offer(epoch, metrics, last_state)
            best_epochs.append(best.epoch if cfg.keep_best else epoch)
            decision = callbacks.after_epoch(epoch, metrics, optimizer.param_groups[0]["lr"])
            if decision.new_lr is not None:
                for group in optimizer.param_groups:
                    group["lr"] = decision.new_lr
            # before the metrics go out: an epoch the editor has seen end can always be resumed after
            _save_checkpoint(ctx, model, optimizer, gen, device, cfg, history, best_epochs, best)
            # the epoch whose weights are kept so far travels with the metrics: the editor shows it, never guesses it
            ctx.metrics(epoch, metrics, best_epoch=best_epochs[-1], stopped_early=decision.stop)
            _say_callbacks(ctx, cfg, epoch, decision)
    except Cancelled:
        _save_on_cancel(ctx, trained_template, last_state, history, opt_spec)
        raise
    state, chosen = _kept_weights(ctx, cfg, best, last_state, history)
    trained = _finish(trained_template, state, history, chosen, opt_spec)
    trained.stopped_epoch = callbacks.stopped_epoch
    return trained


def _say_callbacks(ctx, cfg: FitConfig, epoch: int, decision) -> None:
    """The log lines of a learning-rate reduction and of an early stop after ``epoch``."""
    monitor = cfg.callbacks.monitor
    if decision.new_lr is not None:
        ctx.log(f"{monitor} has not improved for {cfg.callbacks.reduce_lr_patience} epoch(s): learning rate "
                f"reduced to {decision.new_lr:g} after epoch {epoch}", code="lr_reduced",
                params={"epoch": epoch, "learning_rate": f"{decision.new_lr:g}", "monitor": monitor,
                        "patience": cfg.callbacks.reduce_lr_patience})
    if decision.stop:
        ctx.log(f"stopped early after epoch {epoch} of {cfg.epochs}: {monitor} has not improved for "
                f"{cfg.callbacks.early_stopping_patience} epoch(s)", code="stopped_early",
                params={"epoch": epoch, "epochs": cfg.epochs, "monitor": monitor,
                        "patience": cfg.callbacks.early_stopping_patience})


def _save_checkpoint(ctx, model: StagedModel, optimizer: torch.optim.Optimizer, gen: torch.Generator,
                     device: torch.device, cfg: FitConfig, history: list[dict[str, float]],
                     best_epochs: list[int | None], best: "_BestEpoch") -> None:
    """The state after the last completed epoch, under this node's cache key (the older one goes)."""
    epoch = len(history)
    weights = checkpoint.trainable_weights(model)
    kept = None
    if best.state is not None:
        # the best epoch's weights, unless they are this epoch's (stored once)
        kept = {"epoch": best.epoch, "rank": list(best.rank or ()),
                "weights": None if best.epoch == epoch else checkpoint.subset(best.state, weights)}
    checkpoint.save(ctx.artifact_dir(), checkpoint.Checkpoint(
        key=ctx.key, epoch=epoch, epochs=cfg.epochs, weights=weights, optimizer=optimizer.state_dict(),
        rng=checkpoint.rng_state(gen, device), history=list(history), best_epochs=list(best_epochs), best=kept))


def _resume(ctx, model: StagedModel, optimizer: torch.optim.Optimizer, gen: torch.Generator, device: torch.device,
            cfg: FitConfig) -> tuple[list[dict[str, float]], list[int | None], "_BestEpoch",
                                     dict[str, torch.Tensor]] | None:
    """Continue from this node's last checkpoint: weights, optimizer, RNGs, history and the best
    epoch restored, and the earlier epochs' metrics sent again (``resumed``) so that the curves
    show the whole training. None (training starts at epoch 1) when there is none to use."""
    ck, problem = checkpoint.latest(ctx.artifact_dir(), ctx.key)
    if ck is not None and (set(ck.weights) != checkpoint.trainable_keys(model)
                           or ck.epochs != cfg.epochs or not 0 < ck.epoch <= cfg.epochs
                           or len(ck.history) != ck.epoch):
        ck, problem = None, problem or "it does not fit this model"
    if ck is None:
        if problem:
            ctx.log(f"the checkpoint cannot be used ({problem}): training starts at epoch 1", level="warning",
                    code="checkpoint_unusable", params={"reason": problem})
        else:
            ctx.log("no checkpoint to continue from: training starts at epoch 1", code="no_checkpoint")
        return None
    model.load_state_dict({**model.state_dict(), **ck.weights})
    optimizer.load_state_dict(ck.optimizer)
    checkpoint.restore_rng(ck.rng, gen, device)
    last_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    best = _BestEpoch()
    if ck.best is not None:
        weights = ck.best["weights"]
        state = last_state if weights is None else \
            {**last_state, **{k: v.to(last_state[k].device) for k, v in weights.items()}}
        best = _BestEpoch(rank=tuple(ck.best["rank"]), epoch=ck.best["epoch"], state=state)
    history = [dict(h) for h in ck.history]
    best_epochs = list(ck.best_epochs) + [None] * (len(history) - len(ck.best_epochs))
    ctx.log(f"resumed from the checkpoint of epoch {ck.epoch} of {cfg.epochs}", code="training_resumed",
            params={"epoch": ck.epoch, "epochs": cfg.epochs})
    for epoch, (metrics, kept) in enumerate(zip(history, best_epochs), 1):
        ctx.metrics(epoch, metrics, best_epoch=kept, resumed=True)
    return history, best_epochs, best, last_state


def remove_checkpoints(ctx) -> None:
    """Once the trained model is made, its checkpoints have served."""
    checkpoint.prune(ctx.artifact_dir())


def _training_inputs(ctx, model: StagedModel, fmt: FormattedImages, cfg: FitConfig, device: torch.device,
                     keep_points: tuple[int, ...]) -> _TrainingInputs:
    """The stages after the frozen prefix with the prefix's cached outputs, or, without the
    cache, the whole model (its frozen front fused for inference) with the images."""
    train_x, train_y = load_images(ctx, fmt, "train")
    val_x, val_y = load_images(ctx, fmt, "validation")
    prefix_len = _cached_prefix_length(ctx, model, fmt, cfg)
    if not any(p.requires_grad for p in model.parameters()):
        raise NodeError("nothing to train: every layer of the model is frozen", code="nothing_to_train")
    # channels-last: the images arrive NHWC anyway, and convolutions run faster so on CPUs and GPUs
    model.to(device=device, memory_format=torch.channels_last)
    precision = chosen_precision(ctx, model, train_x[:cfg.batch_size], device).precision
    variants = fixed.variants_of(fmt.augmentation)
    if prefix_len:
        if variants:
            train_x = _variant_features(ctx, model, prefix_len, fmt, train_x, device, precision, keep_points,
                                        variants)
        else:
            train_x = cached_features(ctx, model, prefix_len, fmt, "train", train_x, device, precision, keep_points)
        val_x = cached_features(ctx, model, prefix_len, fmt, "validation", val_x, device, precision, keep_points)
        head, augmentation = nn.Sequential(*list(model.children())[prefix_len:]), "none"
    else:
        head, augmentation = _with_fused_frozen_front(model), "none" if variants else fmt.augmentation
    if device.type == "cuda":
        train_x = [_stage_on_device(x, device) for x in train_x] if isinstance(train_x, list) \
            else _stage_on_device(train_x, device)
        val_x = _stage_on_device(val_x, device)
        train_y, val_y = train_y.to(device), val_y.to(device)
    return _TrainingInputs(head, train_x, train_y, val_x, val_y, augmentation, precision, variants)


def chosen_precision(ctx, model: StagedModel, batch: torch.Tensor, device: torch.device) -> Choice:
    """The precision a trainer (or an evaluation) runs in, measured on a batch of its images where
    the setting asks for it (``precision.choose``), said in one log line."""
    choice = choose(device, ctx.settings.amp, list(model.children()), to_device(batch, device), cache=CHOICES)
    timings = choice.timings_text()
    ctx.log(f"precision {choice.precision} on {device} ({choice.how}{': ' + timings if timings else ''})",
            reason=choice.reason, code="precision_chosen",
            params={"precision": choice.precision, "device": str(device), "how": choice.how, "timings": timings})
    return choice


def _variant_features(ctx, model: StagedModel, prefix_len: int, fmt: FormattedImages, images: torch.Tensor,
                      device: torch.device, precision: str, keep_points: tuple[int, ...],
                      variants: tuple[fixed.Variant, ...]) -> list[torch.Tensor]:
    """Each fixed variant's features of the training split (each cached under its own key, with
    the fine-tuning points kept for each), and one line that sums up what they cost."""
    t0 = time.time()
    feats = [cached_features(ctx, model, prefix_len, fmt, "train", images, device, precision, keep_points, variant=v)
             for v in variants]
    seconds = round(time.time() - t0, 1)
    size = sum(f.numel() * f.element_size() for f in feats)
    names = ", ".join(v.name for v in variants)
    ctx.log(f"fixed augmentation: {len(variants)} variants of {len(images)} training images ({names}) "
            f"in the feature cache, {size / 2**20:.0f} MB, feature pass {seconds:.1f}s",
            cache=CacheNote(cache="features", split="train", variants=len(variants), bytes=size, seconds=seconds,
                            stage=model.stage_names()[prefix_len - 1]),
            code="feature_variants", params={"variants": len(variants), "names": names, "count": len(images),
                                             "mb": round(size / 2**20), "seconds": seconds})
    return feats


def _cached_prefix_length(ctx, model: StagedModel, fmt: FormattedImages, cfg: FitConfig) -> int:
    """How many leading stages train from cached features (0: none), saying why when none do."""
    if fmt.augmentation != "none" and not fixed.variants_of(fmt.augmentation):
        if cfg.feature_cache:
            ctx.log("feature cache off: random augmentation changes the backbone's input every epoch",
                    cache=CacheNote(cache="features", enabled=False, reason="augmentation"),
                    code="feature_cache_off_augmentation")
        return 0
    if not cfg.feature_cache:
        ctx.log("feature cache turned off for this trainer",
                cache=CacheNote(cache="features", enabled=False, reason="disabled"), code="feature_cache_disabled")
        return 0
    return frozen_prefix_length(model)


def _with_fused_frozen_front(model: StagedModel) -> nn.Module:
    """Without the cache the frozen front still runs every batch, so it runs as an inference
    copy with batch normalization folded into the convolutions (same outputs, ~1.5x faster on
    a CPU); the model itself, and its saved weights, keep the original layers."""
    frozen = frozen_prefix_length(model)
    if not frozen:
        return model
    stages = list(model.children())
    return nn.Sequential(*[fused_for_inference(s) for s in stages[:frozen]], *stages[frozen:])


def _train_epoch(ctx, inputs: _TrainingInputs, optimizer: torch.optim.Optimizer, loss_fn, correct_fn,
                 gen: torch.Generator, device: torch.device, precision: str, batch_size: int,
                 phase: str, epoch: int, epochs: int) -> tuple[float, float]:
    """One pass over the training split in a random order; its mean loss and accuracy."""
    head, train_x, train_y = inputs.head, inputs.train_x, inputs.train_y
    _set_train_mode(head)
    n = len(train_y)
    steps = math.ceil(n / batch_size)
    order = torch.randperm(n, generator=gen)
    # fixed variants: one per image for this epoch, drawn the same way by the cached and the plain path
    ids = fixed.draw(n, len(inputs.variants), gen) if inputs.variants else None
    run_loss, run_correct = 0.0, 0
    for step in range(steps):
        idx = order[step * batch_size:(step + 1) * batch_size]
        if isinstance(train_x, list):     # cached features of each variant
            xb = to_device(fixed.gather(train_x, idx, ids[idx]), device)
        else:
            xb = to_device(train_x[idx.to(train_x.device)], device)
            if ids is not None:
                xb = fixed.apply(xb, ids[idx], inputs.variants)
        if inputs.augmentation != "none":
            xb = augment(xb, inputs.augmentation, gen)
        yb = train_y[idx.to(train_y.device)].to(device, non_blocking=True)
        with _autocast(device, precision):
            out = head(xb)
        loss = loss_fn(out.float(), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        run_loss += loss.item() * len(idx)
        run_correct += correct_fn(out.detach().float(), yb)
        if ctx.settings.train_step_delay_s:   # fault injection for tests: an epoch long enough to be cut
            time.sleep(ctx.settings.train_step_delay_s)
        ctx.progress(step + 1, steps, unit="batch", phase=phase, code="epoch", epoch=epoch, epochs=epochs)
    return run_loss / n, run_correct / n


def _save_on_cancel(ctx, template: TrainedModel, last_state: dict[str, torch.Tensor] | None,
                    history: list[dict[str, float]], opt_spec: OptimizerSpec) -> None:
    """Keep the weights of the last completed epoch in a model file, and say where."""
    if last_state is None:
        return
    partial = _finish(template, last_state, history, len(history), opt_spec)
    # named by epoch: the same cache key and epoch give the same weights, so a later cancel of
    # this node never changes the file an earlier cancelled run offers for download
    path = save_model_file(ctx.artifact_dir() / f"cancelled-epoch{len(history)}.pt", partial,
                           provenance=model_provenance(ctx, partial))
    partial.model_file = str(path)
    ctx.log(f"cancelled: the weights of epoch {len(history)} are saved in {path}",
            level="warning", model_file=str(path), epoch=len(history), model=partial.summary(),
            code="cancelled_weights_saved", params={"epoch": len(history), "path": str(path)})


def _kept_weights(ctx, cfg: FitConfig, best: _BestEpoch, last_state: dict[str, torch.Tensor] | None,
                  history: list[dict[str, float]]) -> tuple[dict[str, torch.Tensor] | None, int]:
    """The weights the trained model keeps, and their epoch: the best one's, or the last's."""
    if not cfg.keep_best or best.state is None:
        return last_state, len(history)
    if best.epoch != len(history):
        ctx.log(f"restored the best weights, from epoch {best.epoch} "
                f"(val_accuracy {history[best.epoch - 1]['val_accuracy']:.4f})",
                code="best_weights_restored", params={"epoch": best.epoch,
                                                      "val_accuracy": history[best.epoch - 1]["val_accuracy"]})
    return best.state, best.epoch


def _finish(template: TrainedModel, state: dict[str, torch.Tensor], history, best_epoch,
            opt_spec: OptimizerSpec) -> TrainedModel:
    return TrainedModel(
        layers=template.layers, state={k: v.cpu() for k, v in state.items()}, classes=template.classes,
        input_shape=template.input_shape, output_shape=template.output_shape, trainable=template.trainable,
        loss=template.loss, optimizer=None, trained_with=opt_spec, history=list(history), best_epoch=best_epoch,
        phase=template.phase)


def evaluate(model: nn.Module, trained: TrainedModel, images: torch.Tensor, labels: torch.Tensor,
             device: torch.device, precision: str = "float32", batch: int | None = None) -> dict[str, Any]:
    """Loss, accuracy and class probabilities of ``model`` (the network of ``trained``) on a split."""
    loss_fn, correct_fn = make_loss(trained.loss, trained.from_logits)
    model = fused_for_inference(model).to(device=device, memory_format=torch.channels_last)
    batch = batch or inference_batch(device, _pixels(images))
    loss, acc, out = _score(model, images, labels, device, precision, loss_fn, correct_fn, batch)
    return {"loss": loss, "accuracy": acc, "probs": trained.probabilities(out)}

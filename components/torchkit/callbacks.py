"""Keras' training callbacks a trainer offers: early stopping and a learning-rate reduction on a
plateau of a monitored metric. Both are off unless a patience is set.

Their state (the best value seen, the epochs waited) is a function of the history alone, so a
resumed trainer rebuilds it by replaying the checkpoint's history (``replay``); the learning
rate itself travels in the optimizer's state.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class CallbackConfig:
    monitor: str = "val_loss"          # val_loss (lower is better) or val_accuracy (higher is better)
    min_delta: float = 0.0             # a smaller change is no improvement
    early_stopping_patience: int = 0   # epochs without improvement before training stops (0: off)
    reduce_lr_patience: int = 0        # epochs without improvement before the learning rate drops (0: off)
    reduce_lr_factor: float = 0.1
    min_lr: float = 0.0

    @property
    def active(self) -> bool:
        return self.early_stopping_patience > 0 or self.reduce_lr_patience > 0


@dataclass
class _Plateau:
    """Epochs since the monitored metric last improved by more than ``min_delta`` (Keras' rule)."""

    higher_is_better: bool
    min_delta: float
    best: float | None = None
    wait: int = 0

    def update(self, value: float | None) -> None:
        if value is None or not math.isfinite(value):
            self.wait += 1
            return
        if self.best is None or (value > self.best + self.min_delta if self.higher_is_better
                                 else value < self.best - self.min_delta):
            self.best, self.wait = value, 0
        else:
            self.wait += 1


@dataclass
class EpochDecision:
    stop: bool = False
    new_lr: float | None = None        # set when the learning rate was reduced after this epoch


@dataclass
class Callbacks:
    cfg: CallbackConfig
    stopper: _Plateau = field(init=False)
    reducer: _Plateau = field(init=False)
    stopped_epoch: int | None = None

    def __post_init__(self) -> None:
        higher = self.cfg.monitor == "val_accuracy"
        self.stopper = _Plateau(higher, self.cfg.min_delta)
        self.reducer = _Plateau(higher, self.cfg.min_delta)

    def after_epoch(self, epoch: int, metrics: dict[str, float], lr: float | None) -> EpochDecision:
        """What happens after ``epoch``: stop, and/or a smaller learning rate (``lr``: the current
        one; None while replaying, when the optimizer's restored state already has it)."""
        decision = EpochDecision()
        value = metrics.get(self.cfg.monitor)
        if self.cfg.reduce_lr_patience > 0:
            self.reducer.update(value)
            if self.reducer.wait >= self.cfg.reduce_lr_patience:
                self.reducer.wait = 0
                if lr is not None and lr > self.cfg.min_lr:
                    decision.new_lr = max(lr * self.cfg.reduce_lr_factor, self.cfg.min_lr)
        if self.cfg.early_stopping_patience > 0:
            self.stopper.update(value)
            if self.stopper.wait >= self.cfg.early_stopping_patience:
                decision.stop = True
                self.stopped_epoch = epoch
        return decision

    def replay(self, history: list[dict[str, float]]) -> None:
        """Rebuild the state after a resumed trainer's earlier epochs."""
        for epoch, metrics in enumerate(history, 1):
            self.after_epoch(epoch, metrics, None)

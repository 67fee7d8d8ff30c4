from __future__ import annotations

from pydantic import Field

from backend.engine import Params

from .base import _Optimizer


class AdamParams(Params):
    learning_rate: float = Field(1e-3, gt=0, le=10)
    beta_1: float = Field(0.9, ge=0, lt=1)
    beta_2: float = Field(0.999, ge=0, lt=1)
    epsilon: float = Field(1e-7, gt=0, le=1)
    weight_decay: float = Field(0.0, ge=0, le=1)


class Adam(_Optimizer):
    id = "optimizers.Adam"
    name = {"en": "Adam", "zh": "Adam 优化器"}
    Params = AdamParams
    kind = "adam"

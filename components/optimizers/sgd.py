from __future__ import annotations

from pydantic import Field

from backend.engine import Params

from .base import _Optimizer


class SGDParams(Params):
    learning_rate: float = Field(1e-2, gt=0, le=10)
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0, le=1)


class SGD(_Optimizer):
    id = "optimizers.SGD"
    name = {"en": "SGD", "zh": "SGD 优化器"}
    Params = SGDParams
    kind = "sgd"

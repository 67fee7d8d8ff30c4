from __future__ import annotations

from pydantic import Field

from backend.engine import Params

from .base import _Optimizer


class RMSpropParams(Params):
    learning_rate: float = Field(2e-5, gt=0, le=10, description="Learning rate (the tutorial uses 2e-5)")
    rho: float = Field(0.9, ge=0, lt=1, description="Decay of the moving average of squared gradients")
    momentum: float = Field(0.0, ge=0, lt=1)
    epsilon: float = Field(1e-7, gt=0, le=1)


class RMSprop(_Optimizer):
    id = "optimizers.RMSprop"
    name = {"en": "RMSprop", "zh": "RMSprop 优化器"}
    Params = RMSpropParams
    kind = "rmsprop"

from __future__ import annotations

from pydantic import model_validator

from backend.engine import ParamField, Params

from .base import OptimizerComponent


class SGDParams(Params):
    learning_rate: float = ParamField(
        1e-2, gt=0, le=10,
        title={"en": "Learning rate", "zh": "学习率"},
        description={"en": "Step size of each update", "zh": "每次更新的步长"})
    momentum: float = ParamField(
        0.0, ge=0, lt=1,
        title={"en": "Momentum", "zh": "动量"},
        description={"en": "Fraction of the previous update added to each step; 0 turns it off",
                     "zh": "每步叠加上一次更新的比例；0 表示不使用"})
    nesterov: bool = ParamField(
        False,
        title={"en": "Nesterov momentum", "zh": "Nesterov 动量"},
        description={"en": "Look ahead along the momentum before taking the gradient (needs momentum > 0)",
                     "zh": "先沿动量方向前瞻再计算梯度（需要动量 > 0）"})
    weight_decay: float = ParamField(
        0.0, ge=0, le=1,
        title={"en": "Weight decay", "zh": "权重衰减"},
        description={"en": "L2 penalty added to the gradients; 0 turns it off",
                     "zh": "加到梯度上的 L2 惩罚；0 表示不使用"})

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self):
        if self.nesterov and self.momentum == 0:
            raise ValueError("Nesterov momentum needs a momentum above 0")
        return self


class SGD(OptimizerComponent):
    id = "optimizers.SGD"
    name = {"en": "SGD", "zh": "SGD 优化器"}
    Params = SGDParams
    kind = "sgd"

    def torch_optimizer(self, params: SGDParams, weights):
        import torch

        return torch.optim.SGD(weights, lr=params.learning_rate, momentum=params.momentum,
                               nesterov=params.nesterov, weight_decay=params.weight_decay)

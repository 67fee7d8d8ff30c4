from __future__ import annotations

from pydantic import model_validator

from backend.engine import ParamField, Params

from .base import OptimizerComponent, learning_rate_field, momentum_field, weight_decay_field


class SGDParams(Params):
    learning_rate: float = learning_rate_field(1e-2)
    momentum: float = momentum_field()
    nesterov: bool = ParamField(
        False,
        title={"en": "Nesterov momentum", "zh": "Nesterov 动量"},
        description={"en": "Look ahead along the momentum before taking the gradient (needs momentum > 0)",
                     "zh": "先沿动量方向前瞻再计算梯度（需要动量 > 0）"})
    weight_decay: float = weight_decay_field()

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

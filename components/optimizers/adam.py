from __future__ import annotations

from backend.engine import ParamField, Params

from .base import OptimizerComponent, epsilon_field, learning_rate_field, weight_decay_field


class AdamParams(Params):
    learning_rate: float = learning_rate_field(1e-3)
    beta_1: float = ParamField(
        0.9, ge=0, lt=1,
        title={"en": "Beta 1", "zh": "衰减率 β1"},
        description={"en": "Decay of the moving average of gradients (momentum)",
                     "zh": "梯度滑动平均的衰减率（动量）"})
    beta_2: float = ParamField(
        0.999, ge=0, lt=1,
        title={"en": "Beta 2", "zh": "衰减率 β2"},
        description={"en": "Decay of the moving average of squared gradients",
                     "zh": "梯度平方滑动平均的衰减率"})
    epsilon: float = epsilon_field()
    weight_decay: float = weight_decay_field()


class Adam(OptimizerComponent):
    id = "optimizers.Adam"
    name = {"en": "Adam", "zh": "Adam 优化器"}
    Params = AdamParams
    kind = "adam"

    def torch_optimizer(self, params: AdamParams, weights):
        import torch

        return torch.optim.Adam(weights, lr=params.learning_rate, betas=(params.beta_1, params.beta_2),
                                eps=params.epsilon, weight_decay=params.weight_decay)

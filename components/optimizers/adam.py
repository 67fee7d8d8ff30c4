from __future__ import annotations

from backend.engine import ParamField, Params

from .base import OptimizerComponent


class AdamParams(Params):
    learning_rate: float = ParamField(
        1e-3, gt=0, le=10,
        title={"en": "Learning rate", "zh": "学习率"},
        description={"en": "Step size of each update", "zh": "每次更新的步长"})
    beta_1: float = ParamField(
        0.9, ge=0, lt=1,
        title={"en": "Beta 1", "zh": "Beta 1"},
        description={"en": "Decay of the moving average of gradients (momentum)",
                     "zh": "梯度滑动平均的衰减率（动量）"})
    beta_2: float = ParamField(
        0.999, ge=0, lt=1,
        title={"en": "Beta 2", "zh": "Beta 2"},
        description={"en": "Decay of the moving average of squared gradients",
                     "zh": "梯度平方滑动平均的衰减率"})
    epsilon: float = ParamField(
        1e-7, gt=0, le=1,
        title={"en": "Epsilon", "zh": "Epsilon"},
        description={"en": "Added to the denominator for numerical stability (Keras' default 1e-7)",
                     "zh": "加在分母上以保证数值稳定（Keras 默认 1e-7）"})
    weight_decay: float = ParamField(
        0.0, ge=0, le=1,
        title={"en": "Weight decay", "zh": "权重衰减"},
        description={"en": "L2 penalty added to the gradients; 0 turns it off",
                     "zh": "加到梯度上的 L2 惩罚；0 表示不使用"})


class Adam(OptimizerComponent):
    id = "optimizers.Adam"
    name = {"en": "Adam", "zh": "Adam 优化器"}
    Params = AdamParams
    kind = "adam"

    def torch_optimizer(self, params: AdamParams, weights):
        import torch

        return torch.optim.Adam(weights, lr=params.learning_rate, betas=(params.beta_1, params.beta_2),
                                eps=params.epsilon, weight_decay=params.weight_decay)

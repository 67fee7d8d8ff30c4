from __future__ import annotations

from backend.engine import ParamField, Params

from .base import OptimizerComponent


class RMSpropParams(Params):
    learning_rate: float = ParamField(
        2e-5, gt=0, le=10,
        title={"en": "Learning rate", "zh": "学习率"},
        description={"en": "Learning rate (the tutorial uses 2e-5)", "zh": "学习率（教程使用 2e-5）"})
    rho: float = ParamField(
        0.9, ge=0, lt=1,
        title={"en": "Rho", "zh": "Rho 衰减"},
        description={"en": "Decay of the moving average of squared gradients", "zh": "梯度平方滑动平均的衰减率"})
    momentum: float = ParamField(
        0.0, ge=0, lt=1,
        title={"en": "Momentum", "zh": "动量"},
        description={"en": "Fraction of the previous update added to each step; 0 turns it off",
                     "zh": "每步叠加上一次更新的比例；0 表示不使用"})
    epsilon: float = ParamField(
        1e-7, gt=0, le=1,
        title={"en": "Epsilon", "zh": "Epsilon"},
        description={"en": "Added to the denominator for numerical stability (Keras' default 1e-7)",
                     "zh": "加在分母上以保证数值稳定（Keras 默认 1e-7）"})


class RMSprop(OptimizerComponent):
    id = "optimizers.RMSprop"
    name = {"en": "RMSprop", "zh": "RMSprop 优化器"}
    Params = RMSpropParams
    kind = "rmsprop"

    def torch_optimizer(self, params: RMSpropParams, weights):
        from ..torchkit.optim import RMSprop  # torch's update, bit for bit, minus its CPU slow spots

        return RMSprop(weights, lr=params.learning_rate, alpha=params.rho, eps=params.epsilon,
                       momentum=params.momentum)

from __future__ import annotations

from backend.engine import ParamField, Params

from .base import OptimizerComponent, epsilon_field, learning_rate_field, momentum_field


class RMSpropParams(Params):
    learning_rate: float = learning_rate_field(2e-5, en="Learning rate (the tutorial uses 2e-5)",
                                               zh="学习率（教程使用 2e-5）")
    rho: float = ParamField(
        0.9, ge=0, lt=1,
        title={"en": "Rho", "zh": "衰减率 ρ"},
        description={"en": "Decay of the moving average of squared gradients", "zh": "梯度平方滑动平均的衰减率"})
    momentum: float = momentum_field()
    epsilon: float = epsilon_field()


class RMSprop(OptimizerComponent):
    id = "optimizers.RMSprop"
    name = {"en": "RMSprop", "zh": "RMSprop 优化器"}
    Params = RMSpropParams
    kind = "rmsprop"

    def torch_optimizer(self, params: RMSpropParams, weights):
        from ..torchkit.optim import RMSprop  # torch's update, bit for bit, minus its CPU slow spots

        return RMSprop(weights, lr=params.learning_rate, alpha=params.rho, eps=params.epsilon,
                       momentum=params.momentum)

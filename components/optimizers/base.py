"""RMSprop, Adam and SGD: each component makes an optimizer spec, and builds the torch
optimizer from it when the trainer binds it to the weights."""
from __future__ import annotations

from typing import Any, ClassVar

from backend.engine import OPTIMIZER, Component, NodeError, ParamField, Port, Spec

from ..values import OptimizerSpec

OPTIMIZER_OUT = Port("optimizer", OPTIMIZER, {"en": "Optimizer", "zh": "优化器"})


# The options several optimizers share, described once.
def learning_rate_field(default: float, en: str = "Step size of each update", zh: str = "每次更新的步长") -> Any:
    return ParamField(default, gt=0, le=10, title={"en": "Learning rate", "zh": "学习率"},
                      description={"en": en, "zh": zh})


def momentum_field() -> Any:
    return ParamField(0.0, ge=0, lt=1, title={"en": "Momentum", "zh": "动量"},
                      description={"en": "Fraction of the previous update added to each step; 0 turns it off",
                                   "zh": "每步叠加上一次更新的比例；0 表示不使用"})


def epsilon_field() -> Any:
    return ParamField(1e-7, gt=0, le=1, title={"en": "Epsilon", "zh": "数值稳定项 ε"},
                      description={"en": "Added to the denominator for numerical stability (Keras' default 1e-7)",
                                   "zh": "加在分母上以保证数值稳定（Keras 默认 1e-7）"})


def weight_decay_field() -> Any:
    return ParamField(0.0, ge=0, le=1, title={"en": "Weight decay", "zh": "权重衰减"},
                      description={"en": "L2 penalty added to the gradients; 0 turns it off",
                                   "zh": "加到梯度上的 L2 惩罚；0 表示不使用"})


class OptimizerComponent(Component):
    category = "optimizers"
    outputs = (OPTIMIZER_OUT,)
    kind: ClassVar[str]   # names the component in an OptimizerSpec

    def infer(self, params, inputs):
        return {"optimizer": Spec(OPTIMIZER, None, {"kind": self.kind, "learning_rate": params.learning_rate})}

    def run(self, ctx, params, inputs):
        return {"optimizer": self.spec(params)}

    def spec(self, params: Any) -> OptimizerSpec:
        """The spec of these params: every option, defaults included."""
        return OptimizerSpec(kind=self.kind, learning_rate=params.learning_rate,
                             options=params.model_dump(exclude={"learning_rate"}))

    def build(self, spec: OptimizerSpec, weights: list[Any]) -> Any:
        """The torch optimizer of a spec over ``weights``; options a spec lacks take this
        component's defaults (a spec made before an option existed)."""
        params = self.Params.model_validate({**spec.options, "learning_rate": spec.learning_rate})
        return self.torch_optimizer(params, weights)

    def torch_optimizer(self, params: Any, weights: list[Any]) -> Any:
        raise NotImplementedError


def build_optimizer(spec: OptimizerSpec, weights: list[Any]) -> Any:
    """The torch optimizer that the component of ``spec.kind`` builds."""
    from components import registry

    for component in registry.all():
        if isinstance(component, OptimizerComponent) and component.kind == spec.kind:
            return component.build(spec, weights)
    raise NodeError(f"unknown optimizer kind {spec.kind}", code="invalid_param")

"""RMSprop, Adam and SGD: each component makes an optimizer spec, and builds the torch
optimizer from it when the trainer binds it to the weights."""
from __future__ import annotations

from typing import Any, ClassVar

from backend.engine import OPTIMIZER, Component, NodeError, Port, Spec

from ..values import OptimizerSpec

OPTIMIZER_OUT = Port("optimizer", OPTIMIZER, {"en": "Optimizer", "zh": "优化器"})


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

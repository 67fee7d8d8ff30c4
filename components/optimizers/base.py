"""RMSprop, Adam and SGD: specifications bound to weights by the trainer."""
from __future__ import annotations


from backend.engine import OPTIMIZER, Component, Params, Port, Spec

from ..values import OptimizerSpec

OPTIMIZER_OUT = Port("optimizer", OPTIMIZER, {"en": "Optimizer", "zh": "优化器"})


class _Optimizer(Component):
    category = "optimizers"
    outputs = (OPTIMIZER_OUT,)
    kind: str

    def infer(self, params, inputs):
        return {"optimizer": Spec(OPTIMIZER, None, {"kind": self.kind, "learning_rate": params.learning_rate})}

    def run(self, ctx, params, inputs):
        options = params.model_dump(exclude={"learning_rate"})
        return {"optimizer": OptimizerSpec(kind=self.kind, learning_rate=params.learning_rate, options=options)}

from __future__ import annotations

from backend.engine import ParamField, Params

from ..base import LayerComponent


class DropoutParams(Params):
    rate: float = ParamField(0.5, ge=0.0, lt=1.0, title={"en": "Rate", "zh": "失活比例"},
                             description={"en": "Fraction of inputs set to zero while training",
                                          "zh": "训练时置零的输入比例"})


class Dropout(LayerComponent):
    id = "layers.Dropout"
    name = {"en": "Dropout", "zh": "随机失活层"}
    description = {"en": "Randomly zeroes inputs while training", "zh": "训练时随机将部分输入置零"}
    Params = DropoutParams

    def out_shape(self, params, in_shape):
        return in_shape

    def stage_costs(self, params, in_shape):
        from ..costs import passthrough

        return passthrough(in_shape, stochastic=params.rate > 0)

    def build(self, params, in_shape):
        import torch.nn as nn

        return [("", nn.Dropout(params.rate))]

from __future__ import annotations

from pydantic import Field

from backend.engine import Params

from ..base import LayerComponent


class DropoutParams(Params):
    rate: float = Field(0.5, ge=0.0, lt=1.0, description="Fraction of inputs set to zero while training")


class Dropout(LayerComponent):
    id = "layers.Dropout"
    name = {"en": "Dropout", "zh": "随机失活层"}
    description = {"en": "Randomly zeroes inputs while training", "zh": "训练时随机将部分输入置零"}
    Params = DropoutParams

    def out_shape(self, params, in_shape):
        return in_shape

    def build(self, params, in_shape):
        import torch.nn as nn

        return [("", nn.Dropout(params.rate))]

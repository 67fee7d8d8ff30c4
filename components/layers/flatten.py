from __future__ import annotations

import math

from backend.engine import Params

from ..base import LayerComponent


class Flatten(LayerComponent):
    id = "layers.Flatten"
    name = {"en": "Flatten", "zh": "展平层"}
    description = {"en": "Flattens a feature map into a vector", "zh": "将特征图展平为向量"}
    Params = Params

    def out_shape(self, params, in_shape):
        return (math.prod(in_shape),)

    def stage_costs(self, params, in_shape):
        from ..costs import passthrough

        return passthrough(in_shape)

    def build(self, params, in_shape):
        import torch.nn as nn

        return [("", nn.Flatten())]

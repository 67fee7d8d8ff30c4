from __future__ import annotations

from typing import Literal

from pydantic import Field

from backend.engine import Params

from ..base import LayerComponent, require_rank

Activation = Literal["relu", "sigmoid", "softmax", "tanh", "linear"]


class DenseParams(Params):
    units: int = Field(256, ge=1, le=65536, description="Number of output units")
    activation: Activation = Field("relu", description="Activation function")


class Dense(LayerComponent):
    id = "layers.Dense"
    name = {"en": "Dense", "zh": "全连接层"}
    description = {"en": "Fully connected layer", "zh": "全连接（密集）层"}
    Params = DenseParams

    def out_shape(self, params, in_shape):
        require_rank(in_shape, 1, "Dense (add a Flatten before it)")
        return (params.units,)

    def out_info(self, params):
        return {"activation": params.activation}

    def build(self, params, in_shape):
        import torch.nn as nn

        act = {"relu": nn.ReLU(), "sigmoid": nn.Sigmoid(), "softmax": nn.Softmax(dim=1),
               "tanh": nn.Tanh(), "linear": nn.Identity()}[params.activation]
        return [("", nn.Sequential(nn.Linear(in_shape[0], params.units), act))]

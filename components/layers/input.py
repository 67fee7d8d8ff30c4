from __future__ import annotations

from pydantic import Field

from backend.engine import TENSOR, Component, Params, Spec

from ..base import TENSOR_OUT
from ..values import SymbolicTensor


class InputParams(Params):
    height: int = Field(150, ge=8, le=4096, description="Image height in pixels")
    width: int = Field(150, ge=8, le=4096, description="Image width in pixels")
    channels: int = Field(3, ge=1, le=4, description="Colour channels (3 for RGB)")


class Input(Component):
    id = "layers.Input"
    name = {"en": "Input", "zh": "输入层"}
    description = {"en": "The shape of the images the model takes", "zh": "模型接收的图像尺寸"}
    category = "layers"
    outputs = (TENSOR_OUT,)
    Params = InputParams

    def infer(self, params, inputs):
        return {"output": Spec(TENSOR, (params.height, params.width, params.channels),
                               {"input_shape": [params.height, params.width, params.channels]})}

    def run(self, ctx, params, inputs):
        return {"output": SymbolicTensor(shape=(params.height, params.width, params.channels), layers=[])}

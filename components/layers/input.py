from __future__ import annotations

from backend.engine import TENSOR, Component, ParamField, Params, Spec

from ..base import TENSOR_OUT
from ..values import SymbolicTensor


class InputParams(Params):
    height: int = ParamField(150, ge=8, le=4096, title={"en": "Height", "zh": "高度"},
                             description={"en": "Image height in pixels", "zh": "图像高度（像素）"})
    width: int = ParamField(150, ge=8, le=4096, title={"en": "Width", "zh": "宽度"},
                            description={"en": "Image width in pixels", "zh": "图像宽度（像素）"})
    channels: int = ParamField(3, ge=1, le=4, title={"en": "Channels", "zh": "通道数"},
                               description={"en": "Colour channels (3 for RGB)", "zh": "颜色通道数（RGB 为 3）"})


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

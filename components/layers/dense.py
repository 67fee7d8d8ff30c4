from __future__ import annotations

from typing import Literal

from backend.engine import ParamField, Params

from ..base import LayerComponent, require_rank

Activation = Literal["relu", "sigmoid", "softmax", "tanh", "linear"]


class DenseParams(Params):
    units: int = ParamField(256, ge=1, le=65536, title={"en": "Units", "zh": "单元数"},
                            description={"en": "Number of output units", "zh": "输出单元的个数"})
    activation: Activation = ParamField(
        "relu", title={"en": "Activation", "zh": "激活函数"},
        description={"en": "Activation function; linear outputs logits (the loss then applies sigmoid or softmax)",
                     "zh": "激活函数；“线性”输出未归一化的分数，由损失函数再做 Sigmoid 或 Softmax"},
        choices={"relu": {"en": "ReLU", "zh": "ReLU"}, "sigmoid": {"en": "Sigmoid", "zh": "Sigmoid"},
                 "softmax": {"en": "Softmax", "zh": "Softmax"}, "tanh": {"en": "Tanh", "zh": "Tanh"},
                 "linear": {"en": "Linear (none)", "zh": "线性（无激活）"}})


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

    def stage_costs(self, params, in_shape):
        from ..costs import dense

        return dense(in_shape, params.units)

    def build(self, params, in_shape):
        import torch.nn as nn

        act = {"relu": nn.ReLU(), "sigmoid": nn.Sigmoid(), "softmax": nn.Softmax(dim=1),
               "tanh": nn.Tanh(), "linear": nn.Identity()}[params.activation]
        return [("", nn.Sequential(nn.Linear(in_shape[0], params.units), act))]

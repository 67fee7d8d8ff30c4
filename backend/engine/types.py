"""Port types, edit-time specs and the connection compatibility table.

Pure Python: the server and the editor use these without torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A symbolic tensor (a layer's output) with a shape in HxWxC order, as Keras users read it.
TENSOR = "tensor"
# An image dataset that knows its class names and its train/validation/test split.
DATASET = "dataset"
# A dataset after image formatting: fixed-size HxWxC images, ready to feed a model.
IMAGES = "images"
# An optimizer specification (kind and hyper-parameters), not yet bound to weights.
OPTIMIZER = "optimizer"
# A trained model: architecture, weights, class names, history.
MODEL = "model"
# An evaluation report: loss, accuracy and confusion matrix on one split.
REPORT = "report"
# What a trainer accepts: a symbolic tensor (a model still to train) or a model to go on training.
TRAINABLE = "trainable"

PORT_TYPES: dict[str, dict[str, str]] = {
    TENSOR: {"en": "Tensor", "zh": "张量"},
    DATASET: {"en": "Image dataset", "zh": "图像数据集"},
    IMAGES: {"en": "Formatted images", "zh": "格式化图像"},
    OPTIMIZER: {"en": "Optimizer", "zh": "优化器"},
    MODEL: {"en": "Model", "zh": "模型"},
    TRAINABLE: {"en": "Model to train", "zh": "待训练模型"},
    REPORT: {"en": "Evaluation report", "zh": "评估报告"},
}

# For each input port type, the output port types that may connect to it.
# The editor's connection check and the engine's validation both read this table.
COMPATIBLE: dict[str, tuple[str, ...]] = {
    TENSOR: (TENSOR,),
    DATASET: (DATASET,),
    IMAGES: (IMAGES,),
    OPTIMIZER: (OPTIMIZER,),
    MODEL: (MODEL,),
    TRAINABLE: (TENSOR, MODEL),
    REPORT: (REPORT,),
}


def compatible(source_type: str, target_type: str) -> bool:
    return source_type in COMPATIBLE.get(target_type, ())


@dataclass(frozen=True)
class Spec:
    """What a port will carry, known at edit time without running anything.

    ``shape`` is HxWxC (or (features,)) for tensors and models; ``info`` carries small
    facts downstream nodes check, such as class names or a backbone's layer names.
    """

    type: str
    shape: tuple[int, ...] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return "x".join(str(d) for d in self.shape) if self.shape else self.type

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.shape is not None:
            out["shape"] = list(self.shape)
            out["label"] = self.describe()
        if self.info:
            out["info"] = self.info
        return out

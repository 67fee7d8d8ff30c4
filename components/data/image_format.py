from __future__ import annotations

from typing import Literal

from pydantic import Field

from backend.engine import DATASET, IMAGES, Component, Params, Port, Spec

from ..values import FormattedImages


class ImageFormatParams(Params):
    height: int = Field(150, ge=8, le=4096, description="Output height in pixels")
    width: int = Field(150, ge=8, le=4096, description="Output width in pixels")
    channels: Literal[1, 3] = Field(3, description="3 for RGB, 1 for grayscale")
    resize: Literal["keep_aspect", "stretch"] = Field(
        "keep_aspect", description="keep_aspect: scale the shorter side, then centre-crop; stretch: scale to size")
    augmentation: Literal["none", "flip", "flip_rotate_zoom"] = Field(
        "none", description="Random augmentation of training images (turns the feature cache off)")


class ImageFormat(Component):
    id = "data.ImageFormat"
    name = {"en": "Image formatting", "zh": "图像格式化"}
    description = {"en": "Resize keeping proportions, then crop to height x width",
                   "zh": "按比例缩放后裁剪到指定尺寸"}
    category = "data"
    inputs = (Port("dataset", DATASET, {"en": "Dataset", "zh": "数据集"}),)
    outputs = (Port("images", IMAGES, {"en": "Images", "zh": "图像"}),)
    Params = ImageFormatParams

    def infer(self, params, inputs):
        return {"images": Spec(IMAGES, (params.height, params.width, params.channels),
                               {**inputs["dataset"].info, "augmentation": params.augmentation})}

    def run(self, ctx, params, inputs):
        return {"images": FormattedImages(dataset=inputs["dataset"], height=params.height, width=params.width,
                                          channels=params.channels, resize=params.resize,
                                          augmentation=params.augmentation, cache_key=ctx.key)}

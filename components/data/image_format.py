from __future__ import annotations

from typing import Literal

from backend.engine import DATASET, IMAGES, Component, ParamField, Params, Port, Spec

from ..torchkit.variants import VARIANT_SETS
from ..values import FormattedImages


class ImageFormatParams(Params):
    height: int = ParamField(150, ge=8, le=4096, title={"en": "Height", "zh": "高度"},
                             description={"en": "Output height in pixels", "zh": "输出高度（像素）"})
    width: int = ParamField(150, ge=8, le=4096, title={"en": "Width", "zh": "宽度"},
                            description={"en": "Output width in pixels", "zh": "输出宽度（像素）"})
    channels: Literal[1, 3] = ParamField(3, title={"en": "Channels", "zh": "通道数"},
                                         description={"en": "3 for RGB, 1 for grayscale", "zh": "3 为 RGB 彩色，1 为灰度"},
                                         choices={1: {"en": "1 (gray)", "zh": "1（灰度）"},
                                                  3: {"en": "3 (RGB)", "zh": "3（RGB）"}})
    resize: Literal["keep_aspect", "stretch"] = ParamField(
        "keep_aspect", title={"en": "Resize", "zh": "缩放方式"},
        description={"en": "Keep aspect: scale the shorter side, then centre-crop; stretch: scale to size",
                     "zh": "保持比例：按短边缩放后居中裁剪；拉伸：直接拉伸到目标尺寸"},
        choices={"keep_aspect": {"en": "Keep aspect", "zh": "保持比例"}, "stretch": {"en": "Stretch", "zh": "拉伸"}})
    augmentation: Literal["none", "flip", "flip_rotate_zoom", "fixed_flip", "fixed_flip_crops"] = ParamField(
        "none", title={"en": "Augmentation", "zh": "数据增强"},
        description={"en": "Augmentation of training images. Random (flip; flip, rotate, zoom) turns the feature "
                           "cache off; fixed variants (the image and its mirror; also zoomed centre crops) keep it "
                           "on: each variant's features are computed once, and each epoch draws one variant per "
                           "image. Validation and test use the plain image",
                     "zh": "训练图像的数据增强。随机增强（翻转；翻转、旋转、缩放）会关闭特征缓存；固定变体（原图与镜像；"
                           "另加放大的中心裁剪）保留特征缓存：每个变体的特征只计算一次，每轮为每张图像抽取一个变体。"
                           "验证集和测试集使用原图"},
        choices={"none": {"en": "None", "zh": "无"}, "flip": {"en": "Flip", "zh": "翻转"},
                 "flip_rotate_zoom": {"en": "Flip, rotate, zoom", "zh": "翻转、旋转、缩放"},
                 "fixed_flip": {"en": "Fixed variants: flip (cached)", "zh": "固定变体：翻转（可缓存）"},
                 "fixed_flip_crops": {"en": "Fixed variants: flip and zoomed crops (cached)",
                                      "zh": "固定变体：翻转与放大裁剪（可缓存）"}})


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
                               {**inputs["dataset"].info, "augmentation": params.augmentation,
                                # fixed variants: how many of each training image the feature cache keeps
                                "variants": len(VARIANT_SETS.get(params.augmentation, ()))})}

    def run(self, ctx, params, inputs):
        return {"images": FormattedImages(dataset=inputs["dataset"], height=params.height, width=params.width,
                                          channels=params.channels, resize=params.resize,
                                          augmentation=params.augmentation, cache_key=ctx.key)}

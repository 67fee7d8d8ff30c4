from __future__ import annotations

from pathlib import Path
from typing import Literal

from backend.engine import NodeError, ParamField

from .common import Backbone, BackboneParams, cached_state, normalization_module
from .weights import CATALOG_FILE, hub_dir, load_catalog  # noqa: F401  (hub_dir: imported from here too)

# Keras' names for VGG16's layers: (name, output channels); channels 0 marks a pooling layer.
VGG16_LAYERS: tuple[tuple[str, int], ...] = (
    ("block1_conv1", 64), ("block1_conv2", 64), ("block1_pool", 0),
    ("block2_conv1", 128), ("block2_conv2", 128), ("block2_pool", 0),
    ("block3_conv1", 256), ("block3_conv2", 256), ("block3_conv3", 256), ("block3_pool", 0),
    ("block4_conv1", 512), ("block4_conv2", 512), ("block4_conv3", 512), ("block4_pool", 0),
    ("block5_conv1", 512), ("block5_conv2", 512), ("block5_conv3", 512), ("block5_pool", 0),
)
VGG16_NAMES = tuple(name for name, _ in VGG16_LAYERS)
VGGLayer = Literal[VGG16_NAMES]  # type: ignore[valid-type]
# torchvision's vgg16().features indices of the 13 convolutions, in order
TORCHVISION_CONV_INDEX = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
# torchvision's file, from the weights catalog (components/backbones/weights_catalog.json)
IMAGENET_ENTRY = load_catalog(CATALOG_FILE)["vgg16"]
IMAGENET_FILE = IMAGENET_ENTRY.file


class VGG16Params(BackboneParams):
    fine_tune_layers: list[VGGLayer] = ParamField(
        default_factory=lambda: ["block5_conv1", "block5_conv2", "block5_conv3"],
        title={"en": "Fine-tune layers", "zh": "微调层"},
        description={"en": "Layers the fine-tune step unfreezes", "zh": "微调步骤解冻的层"},
        deferred=True)


class VGG16(Backbone):
    id = "backbones.VGG16"
    name = {"en": "VGG16", "zh": "VGG16 预训练模型"}
    description = {"en": "VGG16 convolutional base (torchvision architecture, Keras layer names)",
                   "zh": "VGG16 卷积基（torchvision 结构，Keras 层名）"}
    Params = VGG16Params
    layer_names = VGG16_NAMES
    imagenet_url = IMAGENET_ENTRY.url   # torchvision's
    weights_name = IMAGENET_ENTRY.name  # abacus weights fetch vgg16

    def out_shape(self, params, in_shape, upto: str | None = None):
        self.check_input(in_shape)
        h, w, c = in_shape
        for name, channels in VGG16_LAYERS:
            if channels:
                c = channels
            else:
                h, w = h // 2, w // 2
            if name == upto:
                break
        return (h, w, c)

    def stage_costs(self, params, in_shape):
        from ..costs import vgg16

        return vgg16(in_shape, VGG16_LAYERS)

    def imagenet_path(self) -> Path:
        path = hub_dir() / "checkpoints" / IMAGENET_FILE
        if not path.is_file():
            raise NodeError(
                f"VGG16 ImageNet weights not found. Run `abacus weights fetch vgg16` (or download them in the "
                f"studio), or put torchvision's {IMAGENET_FILE} at {path} (the torch hub cache), or set "
                f"weights to 'file' and weights_file to its path.",
                code="weights_missing", param="weights", params={"path": str(path)})
        return path

    def build(self, params, in_shape, pretrained: bool = True):
        import torch
        import torch.nn as nn

        stages = [("normalize", normalization_module())]
        c = in_shape[2]
        convs = []
        for name, channels in VGG16_LAYERS:
            if channels:
                conv = nn.Conv2d(c, channels, 3, padding=1)
                convs.append(conv)
                stages.append((name, nn.Sequential(conv, nn.ReLU(inplace=True))))
                c = channels
            else:
                stages.append((name, nn.MaxPool2d(2, 2)))
        path = self.weights_path(params) if pretrained else None
        if path is not None:
            state = cached_state(path, lambda p: torch.load(p, map_location="cpu", weights_only=True))
            with torch.no_grad():
                for conv, idx, name in zip(convs, TORCHVISION_CONV_INDEX,
                                           [n for n, ch in VGG16_LAYERS if ch]):
                    # torchvision's own naming, or ours (a file saved from an Abacus model)
                    for prefix in (f"features.{idx}.", f"{name}.0.", f"{name}."):
                        if prefix + "weight" in state:
                            conv.weight.copy_(state[prefix + "weight"])
                            conv.bias.copy_(state[prefix + "bias"])
                            break
                    else:
                        raise NodeError(f"{path} has no weights for {name} (expected features.{idx}.weight)",
                                        code="weights_invalid", param="weights_file", params={"path": str(path)})
        return stages

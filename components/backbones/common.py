"""What the pretrained backbones share: weight options, freezing, normalization."""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Literal

from backend.engine import InferError, NodeError, ParamField, Params

from ..base import LayerComponent, require_rank

WeightsChoice = Literal["imagenet", "none", "file"]

_STATES: OrderedDict[tuple[str, int, int], Any] = OrderedDict()
_STATES_LOCK = threading.Lock()


def cached_state(path: Path, load: Callable[[Path], Any], keep: int = 2) -> Any:
    """A weight file's tensors, read once per process: a worker (or a Ray actor) keeps its
    backbones warm between runs. A file changed on disk (mtime, size) is read again. Callers
    copy the tensors into their modules and never change them."""
    stat = os.stat(path)
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _STATES_LOCK:
        if key in _STATES:
            _STATES.move_to_end(key)
            return _STATES[key]
    state = load(path)
    with _STATES_LOCK:
        _STATES[key] = state
        while len(_STATES) > keep:
            _STATES.popitem(last=False)
    return state


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class BackboneParams(Params):
    weights: WeightsChoice = ParamField(
        "imagenet", title={"en": "Weights", "zh": "预训练权重"},
        description={"en": "Pretrained weights: ImageNet, none (random), or a file",
                     "zh": "ImageNet 预训练权重、不加载（随机初始化），或从文件加载"},
        choices={"imagenet": {"en": "ImageNet", "zh": "ImageNet"},
                 "none": {"en": "None (random)", "zh": "无（随机）"},
                 "file": {"en": "From a file", "zh": "从文件加载"}})
    weights_file: str | None = ParamField(
        None, title={"en": "Weights file", "zh": "权重文件"},
        description={"en": "Weight file to load when weights is 'file'",
                     "zh": "“预训练权重”为“从文件加载”时读取的权重文件"})
    feature_extractor: bool = ParamField(
        True, title={"en": "Feature extractor", "zh": "用作特征提取器"},
        description={"en": "Freeze the whole backbone (use it as a feature extractor)",
                     "zh": "冻结整个骨干网络（用作特征提取器）"})


def file_stamp(path: Path) -> str:
    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]


class Backbone(LayerComponent):
    category = "backbones"
    backbone = True
    layer_names: tuple[str, ...] = ()
    min_size = 32
    imagenet_url: str | None = None  # where the ImageNet weight file can be fetched by hand

    def check_input(self, in_shape):
        require_rank(in_shape, 3, self.name["en"])
        h, w, c = in_shape
        if c != 3:
            raise InferError(f"{self.name['en']} takes 3-channel RGB images, got {c} channels", port="input")
        if min(h, w) < self.min_size:
            raise InferError(f"{self.name['en']} needs images of at least {self.min_size}x{self.min_size}, "
                             f"got {h}x{w}", port="input")

    def out_info(self, params):
        return {"backbone_layers": list(self.layer_names)}

    def frozen_stages(self, params):
        return {"normalize", *self.layer_names} if params.feature_extractor else {"normalize"}

    def weights_path(self, params) -> Path | None:
        """The file the ImageNet or given weights come from; None for random weights."""
        if params.weights == "none":
            return None
        if params.weights == "file":
            if not params.weights_file:
                raise NodeError("weights is 'file' but weights_file is empty", code="invalid_param",
                                param="weights_file")
            path = Path(os.path.expanduser(params.weights_file))
            if not path.is_file():
                raise NodeError(f"weight file not found: {path}", code="weights_missing", param="weights_file",
                                params={"path": str(path)})
            return path
        return self.imagenet_path()

    def imagenet_path(self) -> Path:
        raise NotImplementedError

    def missing_files(self, params):
        """The ImageNet weight file, when the weights come from it and it is absent (one stat: this
        runs on every validation). A weight *file* the person names is a path param, checked with
        the data roots (``backend/runs/paths.py``). Nothing is downloaded by a run, so it is an error;
        ``params.weights_name`` names the catalog entry the studio and ``abacus weights fetch`` download."""
        if params.get("weights", "imagenet") != "imagenet":
            return []
        try:
            self.imagenet_path()
        except NodeError as err:
            path = err.params.get("path")
            extra = {"file": Path(path).name} if path else {}
            message = str(err)
            if path and self.imagenet_url:
                extra["url"] = self.imagenet_url
                if getattr(self, "weights_name", None):
                    extra["weights_name"] = self.weights_name
                message += f" It can be fetched from {self.imagenet_url}."
            return [NodeError(message, code=err.code, param=err.param, params={**err.params, **extra})]
        except Exception:  # a broken install: the run reports it with its traceback
            return []
        return []

    def fingerprint(self, params):
        try:
            path = self.weights_path(params)
        except NodeError as err:
            return f"missing:{err}"
        return file_stamp(path) if path else "random"


def normalization_module(mean=IMAGENET_MEAN, std=IMAGENET_STD, scale: float = 1.0):
    import torch
    import torch.nn as nn

    class Normalize(nn.Module):
        """Maps [0, 1] RGB to what the pretrained weights expect."""

        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

        def forward(self, x):
            return (x * scale - self.mean) / self.std

    return Normalize()

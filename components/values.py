"""The values that travel along edges at run time. Pure Python; tensors only inside fields."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from typing import Any

from backend.engine.summaries import (DataCheck, DatasetSummary, EpochMetrics, EvaluationSample, EvaluationSummary,
                                      ImagesSummary, ModelSummary, OptimizerSummary, TensorSummary)
from backend.engine.values import value_type


@value_type
@dataclass
class LayerSpec:
    """One layer of a model under construction, as its node described it."""

    node: str
    component: str
    version: int
    params: dict[str, Any]
    in_shape: tuple[int, ...] | None
    out_shape: tuple[int, ...]


@value_type
@dataclass
class SymbolicTensor:
    """A layer's output: the shape, and the chain of layers from the Input that makes it."""

    shape: tuple[int, ...]
    layers: list[LayerSpec]

    def summary(self) -> TensorSummary:
        return TensorSummary(shape=list(self.shape), layers=[layer.node for layer in self.layers])


@value_type
@dataclass
class ImageDataset:
    root: str
    classes: list[str]
    # split name -> relative file paths, and the class index of each
    files: dict[str, list[str]]
    labels: dict[str, list[int]]
    skipped: list[str] = field(default_factory=list)
    fingerprint: str = ""
    # a DataCheck's JSON (stored values hold plain containers): copies across splits, class
    # balance, unreadable files (components/data/soundness.py)
    check: dict | None = None

    def summary(self) -> DatasetSummary:
        return DatasetSummary(classes=self.classes, sizes={s: len(f) for s, f in self.files.items()},
                              skipped=len(self.skipped),
                              check=DataCheck.model_validate(self.check) if self.check else None)


@value_type
@dataclass
class FormattedImages:
    dataset: ImageDataset
    height: int
    width: int
    channels: int
    resize: str
    augmentation: str
    cache_key: str  # the formatting node's cache key: decoded images are stored under it

    def summary(self) -> ImagesSummary:
        data = self.dataset.summary()
        return ImagesSummary(shape=[self.height, self.width, self.channels], augmentation=self.augmentation,
                             classes=data.classes, sizes=data.sizes, skipped=data.skipped)


@value_type
@dataclass
class OptimizerSpec:
    kind: str
    learning_rate: float
    options: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> OptimizerSummary:
        return OptimizerSummary(optimizer=self.kind, learning_rate=self.learning_rate,
                                options={k: v for k, v in self.options.items() if isinstance(v, (int, float, bool))})


@value_type
@dataclass
class TrainedModel:
    layers: list[LayerSpec]
    state: dict[str, Any]          # torch state_dict of the whole model
    classes: list[str]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    trainable: list[str]           # names of the stages that train when this model trains again
    loss: str = "binary_crossentropy"
    optimizer: OptimizerSpec | None = None   # set by FineTune for the next trainer
    trained_with: OptimizerSpec | None = None  # the optimizer of the last training
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    model_file: str | None = None  # a self-contained file of this model, if saved
    phase: str = "train"
    weights_in_model_file: bool = False  # ``state`` is exactly what ``model_file`` holds
    stopped_epoch: int | None = None  # early stopping ended the training after this epoch

    # Stored results keep the weights once: when the model file holds them, the result file
    # holds a reference, and loading the result reads them back from the model file.
    def _weights_elsewhere(self) -> bool:
        return bool(self.weights_in_model_file and self.model_file and os.path.isfile(self.model_file))

    def __stored__(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self._weights_elsewhere():
            out["state"] = None
        return out

    def __requires__(self) -> list[str]:
        return [str(self.model_file)] if self._weights_elsewhere() else []

    @classmethod
    def __restore__(cls, kwargs: dict[str, Any]) -> "TrainedModel":
        if kwargs.get("state") is None and kwargs.get("weights_in_model_file") and kwargs.get("model_file"):
            import torch

            path = kwargs["model_file"]
            try:
                kwargs["state"] = torch.load(path, map_location="cpu", weights_only=True)["state"]
            except Exception as err:
                raise FileNotFoundError(f"the weights of this stored model are kept in {path}, "
                                        f"which cannot be read: {err}") from err
        return cls(**kwargs)

    @property
    def from_logits(self) -> bool:
        """Whether the outputs are logits: the last layer is a Dense without activation."""
        last = self.layers[-1] if self.layers else None
        return bool(last and last.component == "layers.Dense" and last.params.get("activation") == "linear")

    def probabilities(self, outputs: Any) -> Any:
        """Class probabilities (N x classes) from the model's outputs (a tensor, N x units):
        sigmoid or softmax of logits, else the outputs as they are; one unit (binary) gives
        two columns, [1 - p, p]."""
        import torch

        outputs = outputs.float().reshape(outputs.shape[0], -1)  # shape[0]: a traced (ONNX) batch stays dynamic
        if outputs.shape[1] == 1:
            p = outputs[:, 0].sigmoid() if self.from_logits else outputs[:, 0]
            return torch.stack([1 - p, p], 1)
        return outputs.softmax(1) if self.from_logits else outputs

    def summary(self) -> ModelSummary:
        history = [EpochMetrics(**epoch) for epoch in self.history]
        best = history[self.best_epoch - 1] if self.best_epoch else None
        return ModelSummary(classes=self.classes, epochs=len(history), best_epoch=self.best_epoch, best=best,
                            history=history, model_file=self.model_file, trainable=self.trainable,
                            phase=self.phase, stopped_epoch=self.stopped_epoch)


@value_type
@dataclass
class EvaluationReport:
    split: str
    loss: float
    accuracy: float
    classes: list[str]
    confusion: list[list[int]]     # rows: true class, columns: predicted class
    samples: list[dict[str, Any]]  # a few images with their predictions
    # The dataset's absolute root: each sample's ``path`` is relative to it (the studio serves
    # the images from there, inside its data roots).
    root: str = ""

    def summary(self) -> EvaluationSummary:
        return EvaluationSummary(split=self.split, loss=_finite(self.loss), accuracy=_finite(self.accuracy),
                                 confusion=self.confusion, classes=self.classes,
                                 samples=[EvaluationSample(**s) for s in self.samples], root=self.root)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None

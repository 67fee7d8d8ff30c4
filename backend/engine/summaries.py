"""What a node's outputs look like from outside the worker: one typed summary per output port.

A value that travels along an edge describes itself with ``summary()``, returning one of these
models; node.finished and node.cached events carry them (port -> summary), the result store
keeps them beside each result, and the OpenAPI schema publishes them, so the editor's types
are generated from here. ``kind`` tells them apart.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class _Summary(BaseModel):
    # extra="forbid": a summary is exactly its fields; defaults are always sent, so the
    # published schema marks every field required
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class EpochMetrics(BaseModel):
    """One epoch of training: the Keras names, plus any further metric a trainer reports."""

    model_config = ConfigDict(extra="allow")

    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None


class TensorSummary(_Summary):
    kind: Literal["tensor"] = "tensor"
    shape: list[int]
    layers: list[str] = Field(default_factory=list, description="node ids of the layers from the Input")


class DuplicateGroup(_Summary):
    """Images that are copies of one another: the same bytes, or near copies (a re-encoded or
    resized photo) by their perceptual hashes."""
    kind: Literal["exact", "near"]
    distance: int = Field(0, description="the largest perceptual-hash distance in the group, in bits (0: exact)")
    files: list[str] = Field(description="paths relative to the dataset folder (training split first)")
    splits: list[str] = Field(description="the split of each file")
    classes: list[str] = Field(description="the class of each file")


class DataCheck(_Summary):
    """What the dataset step found about its images: the report behind its data warnings."""
    root: str = Field(description="the dataset folder the paths are relative to")
    counts: dict[str, dict[str, int]] = Field(description="split -> class -> images")
    leaks: list[DuplicateGroup] = Field(default_factory=list, description=(
        "duplicate groups with files in more than one split (the first 50)"))
    leak_groups: int = Field(0, description="how many groups of copies span more than one split")
    leaked_files: int = Field(0, description="validation and test files with a copy in another split")
    duplicates_within: int = Field(0, description="groups of copies that lie within one split")
    label_conflicts: int = Field(0, description="groups of copies that carry different classes")
    removed: list[str] = Field(default_factory=list, description="files left out as copies before splitting")
    skipped: list[str] = Field(default_factory=list, description="files that could not be decoded (the first 50)")
    skipped_count: int = 0
    unbalanced: list[str] = Field(default_factory=list, description=(
        "splits whose largest class has more than 1.5x the images of the smallest (or an empty class)"))


class DatasetSummary(_Summary):
    kind: Literal["dataset"] = "dataset"
    classes: list[str]
    sizes: dict[str, int] = Field(description="images per split")
    skipped: int = Field(0, description="files that could not be read")
    check: DataCheck | None = Field(None, description="duplicates across splits, class balance, unreadable files")


class ImagesSummary(_Summary):
    kind: Literal["images"] = "images"
    shape: list[int] = Field(description="height, width, channels")
    augmentation: str
    classes: list[str]
    sizes: dict[str, int]
    skipped: int = 0


class OptimizerSummary(_Summary):
    kind: Literal["optimizer"] = "optimizer"
    optimizer: str = Field(description="rmsprop, adam or sgd")
    learning_rate: float
    options: dict[str, float | bool] = Field(default_factory=dict)


class ModelSummary(_Summary):
    """A trained model: its history, the epoch whose weights it keeps, and its file."""

    kind: Literal["model"] = "model"
    classes: list[str]
    epochs: int
    best_epoch: int | None = None
    best: EpochMetrics | None = Field(None, description="the metrics of best_epoch")
    history: list[EpochMetrics] = Field(default_factory=list)
    model_file: str | None = Field(None, description="a self-contained file of this model, if saved")
    trainable: list[str] = Field(default_factory=list)
    phase: str = "train"
    stopped_epoch: int | None = Field(None, description="the epoch after which early stopping ended the "
                                                        "training; none when it ran every epoch")


class EvaluationSample(_Summary):
    path: str = Field(description="the image, relative to the report's root")
    label: str
    predicted: str
    probability: float


class EvaluationSummary(_Summary):
    """An evaluation report: loss, accuracy and confusion matrix on one split."""

    kind: Literal["evaluation"] = "evaluation"
    split: str
    loss: float | None
    accuracy: float | None
    classes: list[str]
    confusion: list[list[int]] = Field(description="rows: true class, columns: predicted class")
    samples: list[EvaluationSample] = Field(default_factory=list)
    root: str = Field("", description="the dataset folder the sample paths are relative to")


class ValueSummary(_Summary):
    """A value that does not describe itself: only its type name."""

    kind: Literal["value"] = "value"
    type: str


NodeSummary = Annotated[
    Union[TensorSummary, DatasetSummary, ImagesSummary, OptimizerSummary, ModelSummary, EvaluationSummary,
          ValueSummary],
    Field(discriminator="kind"),
]


class CacheNote(_Summary):
    """What a node.log says about a cache: decoded images or frozen-backbone features,
    built or reused, or turned off (and why)."""

    cache: Literal["images", "features"]
    split: str | None = None
    built: bool | None = Field(None, description="true: made by this run; false: reused")
    enabled: bool = True
    reason: str | None = Field(None, description="why it is off: augmentation or disabled")
    stage: str | None = Field(None, description="the backbone stage whose output is cached")
    bytes: int | None = None
    key: str | None = None
    precision: str | None = None
    also_kept: list[str] = Field(default_factory=list, description="earlier stages kept for fine-tuning")
    variant: str | None = Field(None, description="the fixed augmentation variant whose features these are "
                                                  "(hflip, zoom_centre, ...); none for the plain image")
    variants: int | None = Field(None, description="on the line that sums up a split's fixed augmentation: how "
                                                   "many variants of each image are cached")
    seconds: float | None = Field(None, description="how long computing the features took")

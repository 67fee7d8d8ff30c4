"""The parameters both image-folder datasets share (``data.CatsVsDogs`` and ``data.ImageFolder``):
the train / validation / test split, its seed, a cap per class and duplicate removal, and the check
that the fractions fit. One class, so that both forms read, and both values validate, the same.

The schema of a dataset's parameters is part of its cache key and of the API: a subclass keeps the
order of these fields (pydantic keeps a field where the base declares it, even when the subclass
declares it again), so ``root`` is declared here too, to stay the first field.
"""
from __future__ import annotations

from pydantic import model_validator

from backend.engine import ParamField, Params

from .soundness import dedupe_field

# (title, description, bounds) of each split's size; the training split must not be empty
_SPLITS = {
    "train": ({"en": "Training split", "zh": "训练集"},
              {"en": "Training split: a fraction (<= 1) or a number of images (> 1)",
               "zh": "训练集：比例（<= 1）或图像数量（> 1）"}, {"gt": 0}),
    "validation": ({"en": "Validation split", "zh": "验证集"},
                   {"en": "Validation split: a fraction (<= 1) or a number of images",
                    "zh": "验证集：比例（<= 1）或图像数量"}, {"ge": 0}),
    "test": ({"en": "Test split", "zh": "测试集"},
             {"en": "Test split: a fraction (<= 1) or a number of images", "zh": "测试集：比例（<= 1）或图像数量"},
             {"ge": 0}),
}


def split_field(split: str, default: float):
    """The size of one split (``train``, ``validation`` or ``test``) with the given default: what
    a dataset whose split differs from ``SplitParams``' declares again."""
    title, description, bounds = _SPLITS[split]
    return ParamField(default, title=title, description=description, **bounds)


class SplitParams(Params):
    """A dataset's folder and how it is split; each dataset declares ``root`` again with its own
    default and help."""
    root: str
    train: float = split_field("train", 0.6)
    validation: float = split_field("validation", 0.2)
    test: float = split_field("test", 0.2)
    seed: int = ParamField(
        1337, ge=0, title={"en": "Seed", "zh": "随机种子"},
        description={"en": "Seed of the shuffle that makes the split", "zh": "划分数据集时打乱顺序所用的随机种子"})
    max_per_class: int | None = ParamField(
        None, ge=1, title={"en": "Max images per class", "zh": "每类最多图像数"},
        description={"en": "Use at most this many images per class", "zh": "每个类别最多使用的图像数"})
    dedupe: bool = dedupe_field()

    @model_validator(mode="after")
    def _fractions_fit(self):
        parts = [self.train, self.validation, self.test]
        if all(p <= 1 for p in parts) and sum(parts) > 1.0 + 1e-9:
            raise ValueError("train + validation + test fractions add up to more than 1")
        return self

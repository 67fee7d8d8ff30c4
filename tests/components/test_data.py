import numpy as np
import pytest
from PIL import Image

import components
from backend.engine import NodeError, RunSettings
from components.data import cats_vs_dogs
from components.torchkit.images import format_image
from tests.conftest import make_image_folder


class Ctx:
    """The parts of the run context that data components use, recording what they report."""

    node_id, key, settings = "dataset", "k" * 32, RunSettings()

    def __init__(self, tmp_path=None):
        self.logs, self.tmp = [], tmp_path

    def progress(self, *a, **k):
        pass

    def log(self, message, level="info", **data):
        self.logs.append((level, message, data))

    def artifact_dir(self, key=None):
        path = self.tmp / (key or self.key)
        path.mkdir(parents=True, exist_ok=True)
        return path


def _dataset(root, **params):
    comp = components.registry.get("data.CatsVsDogs")
    p = comp.Params.model_validate({"root": str(root), **params})
    ctx = Ctx()
    return comp.run(ctx, p, {})["dataset"], ctx


def test_petimages_layout_split_is_stratified_and_deterministic(tmp_path):
    root = make_image_folder(tmp_path / "pets", per_class=20)
    ds, _ = _dataset(root)
    assert ds.classes == ["cat", "dog"]
    assert {s: len(f) for s, f in ds.files.items()} == {"train": 20, "validation": 10, "test": 10}
    for split in ds.files:
        assert ds.labels[split].count(0) == ds.labels[split].count(1)
    again, _ = _dataset(root)
    assert again.files == ds.files
    other, _ = _dataset(root, seed=7)
    assert other.files != ds.files
    all_files = [f for s in ds.files.values() for f in s]
    assert len(all_files) == len(set(all_files))


def test_kaggle_layout_and_split_by_counts(tmp_path):
    root = make_image_folder(tmp_path / "kaggle", per_class=10, layout="kaggle")
    ds, _ = _dataset(root, train=8, validation=4, test=4)
    assert {s: len(f) for s, f in ds.files.items()} == {"train": 8, "validation": 4, "test": 4}
    assert all(f.startswith(("cat.", "dog.")) for f in ds.files["train"])


def test_corrupt_files_are_skipped_and_counted(tmp_path):
    root = make_image_folder(tmp_path / "pets", per_class=8, corrupt=2)
    ds, ctx = _dataset(root)
    assert len(ds.skipped) == 4
    assert sum(len(f) for f in ds.files.values()) == 16
    assert any(level == "warning" and "4 unreadable" in msg for level, msg, _ in ctx.logs)


def test_missing_or_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(NodeError) as err:
        _dataset(tmp_path / "nowhere")
    assert err.value.param == "root" and "not found" in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NodeError, match="Cat/ and Dog/"):
        _dataset(tmp_path / "empty")


def test_fractions_over_one_are_refused():
    comp = components.registry.get("data.CatsVsDogs")
    with pytest.raises(ValueError, match="more than 1"):
        comp.Params.model_validate({"train": 0.6, "validation": 0.3, "test": 0.3})


def test_download_when_offline_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(cats_vs_dogs, "ARCHIVE_URL", "http://127.0.0.1:9/kagglecatsanddogs.zip")
    with pytest.raises(NodeError) as err:
        _dataset(tmp_path / "fresh", download=True)
    assert err.value.code == "download_failed" and "offline" in str(err.value)


def test_format_keeps_proportions_then_crops(tmp_path):
    arr = np.zeros((100, 300, 3), dtype=np.uint8)
    arr[:, 100:200] = 255          # a white centre band, one third of the width
    Image.fromarray(arr).save(tmp_path / "wide.png")
    out = format_image(tmp_path / "wide.png", 150, 150)
    assert out.shape == (150, 150, 3)
    # scaled to 150x450 and centre-cropped: the white band fills the crop, proportions kept
    assert out[:, 5:-5].min() > 200
    stretched = format_image(tmp_path / "wide.png", 150, 150, resize="stretch")
    assert stretched[:, :20].max() < 30
    gray = format_image(tmp_path / "wide.png", 32, 32, channels=1)
    assert gray.shape == (32, 32, 1)


def test_image_format_component_infers_and_describes(tmp_path):
    from backend.engine import DATASET, Spec

    comp = components.registry.get("data.ImageFormat")
    p = comp.Params.model_validate({"height": 150, "width": 150})
    spec = comp.infer(p, {"dataset": Spec(DATASET, None, {"classes": ["cat", "dog"]})})["images"]
    assert spec.shape == (150, 150, 3) and spec.info["classes"] == ["cat", "dog"]
    ds, _ = _dataset(make_image_folder(tmp_path / "pets", per_class=4))
    ctx = Ctx(tmp_path)
    fmt = comp.run(ctx, p, {"dataset": ds})["images"]
    assert fmt.cache_key == ctx.key and fmt.augmentation == "none"

"""The image-folder dataset: any number of class folders, split, skipped and fingerprinted as the
Cats-vs-Dogs dataset is (the shared code is components/data/folders.py)."""
import hashlib

import numpy as np
import pytest
from PIL import Image

import components
from backend.engine import Graph, NodeError, RunSettings, validate
from tests.components.test_data import Ctx
from tests.conftest import make_image_folder, tiny_graph

CLASSES = ("tulip", "daisy", "rose")   # made in this order, listed sorted


def make_folders(root, per_class=10, corrupt=0, seed=0):
    """Three classes, each mostly one colour channel, some in a nested folder, plus what a real folder
    holds besides photos (a text file, a hidden file, an empty hidden folder)."""
    rng = np.random.default_rng(seed)
    for channel, name in enumerate(CLASSES):
        for i in range(per_class):
            arr = rng.integers(0, 100, size=(20, 24, 3), dtype=np.uint8)
            arr[:, :, channel] = rng.integers(160, 256, size=(20, 24), dtype=np.uint8)
            path = root / name / ("more" if i % 3 == 0 else "") / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(path)
        for j in range(corrupt):
            (root / name / f"bad{j}.jpg").write_bytes(b"not a photo")
        (root / name / "notes.txt").write_text("not an image")
        (root / name / ".hidden.jpg").write_bytes(b"hidden")
    (root / ".thumbnails").mkdir()
    return root


def _run(root, ctx=None, **params):
    comp = components.registry.get("data.ImageFolder")
    p = comp.Params.model_validate({"root": str(root), **params})
    ctx = ctx or Ctx()
    return comp.run(ctx, p, {})["dataset"], ctx


def test_classes_are_the_sorted_folders_and_the_split_is_stratified_and_deterministic(tmp_path):
    root = make_folders(tmp_path / "flowers", per_class=10)
    ds, ctx = _run(root, train=0.6, validation=0.2, test=0.2)
    assert ds.classes == ["daisy", "rose", "tulip"]
    assert {s: len(f) for s, f in ds.files.items()} == {"train": 18, "validation": 6, "test": 6}
    for split, files in ds.files.items():
        assert [ds.labels[split].count(k) for k in range(3)] == [len(files) // 3] * 3
        for rel, label in zip(files, ds.labels[split]):
            assert rel.split("/")[0] == ds.classes[label]
    every = [f for files in ds.files.values() for f in files]
    assert len(set(every)) == 30 and "rose/more/0.png" in every    # nested folders count, hidden files do not
    assert _run(root, train=0.6, validation=0.2, test=0.2)[0].files == ds.files
    assert _run(root, train=0.6, validation=0.2, test=0.2, seed=2)[0].files != ds.files
    assert ds.summary().classes == ["daisy", "rose", "tulip"]
    assert any(d.get("code") == "dataset_split" for _, _, d in ctx.logs)


def test_counts_are_totals_over_the_classes_and_max_per_class_caps(tmp_path):
    root = make_folders(tmp_path / "flowers", per_class=10)
    ds, _ = _run(root, train=12, validation=6, test=3)
    assert {s: len(f) for s, f in ds.files.items()} == {"train": 12, "validation": 6, "test": 3}
    capped, _ = _run(root, max_per_class=5, train=0.6, validation=0.2, test=0.2)
    assert sum(len(f) for f in capped.files.values()) == 15
    with pytest.raises(NodeError) as err:
        _run(root, train=40, validation=1, test=1)
    assert err.value.code == "split_too_large"


def test_unreadable_images_are_skipped_and_counted(tmp_path):
    root = make_folders(tmp_path / "flowers", per_class=6, corrupt=1)
    ds, ctx = _run(root)
    assert sorted(ds.skipped) == ["daisy/bad0.jpg", "rose/bad0.jpg", "tulip/bad0.jpg"]
    assert sum(len(f) for f in ds.files.values()) == 18
    assert any(d.get("code") == "images_unreadable" and d["params"] == {"count": 3} for _, _, d in ctx.logs)


def test_the_fingerprint_follows_files_and_class_folders(tmp_path):
    comp = components.registry.get("data.ImageFolder")
    root = make_folders(tmp_path / "flowers", per_class=4)
    fp = lambda: comp.fingerprint(comp.Params(root=str(root)))  # noqa: E731
    first = fp()
    assert fp() == first
    (root / "rose" / "notes2.txt").write_text("ignored")
    assert fp() == first
    Image.new("RGB", (8, 8)).save(root / "rose" / "new.png")
    second = fp()
    assert second != first
    (root / "sunflower").mkdir()          # a new (empty) class shifts nothing's files but the labels
    assert fp() != second
    assert comp.fingerprint(comp.Params(root=str(tmp_path / "nowhere"))).startswith("missing:")


def test_the_cats_vs_dogs_fingerprint_is_unchanged_by_the_shared_code(tmp_path):
    """Its cache keys must stay valid: the hash of the folder and each file's path, size and mtime."""
    root = make_image_folder(tmp_path / "pets", per_class=3)
    comp = components.registry.get("data.CatsVsDogs")
    items = sorted((f"{c}/{p.name}", p.stat().st_size, p.stat().st_mtime_ns)
                   for c in ("Cat", "Dog") for p in (root / c).iterdir())
    h = hashlib.sha256(str(root.resolve()).encode())
    h.update("".join(f"{rel}|{size}|{mtime}\n" for rel, size, mtime in items).encode())
    assert comp.fingerprint(comp.Params(root=str(root))) == h.hexdigest()[:32]


def test_too_few_classes_no_images_and_missing_folders_are_clear_errors(tmp_path):
    (tmp_path / "one" / "only").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "one" / "only" / "a.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "one" / "loose.png")      # images outside class folders are ignored
    cases = {tmp_path / "one": "dataset_too_few_classes", tmp_path / "nowhere": "dataset_missing"}
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "b").mkdir()
    cases[tmp_path / "empty"] = "dataset_no_images"
    for root, code in cases.items():
        with pytest.raises(NodeError) as err:
            _run(root)
        assert (err.value.code, err.value.param) == (code, "root")
    with pytest.raises(NodeError) as err:
        _run("  ")
    assert err.value.code == "path_required"


def test_images_linked_out_of_the_data_roots_fail_the_node(tmp_path):
    data = tmp_path / "data"
    root = make_folders(data / "flowers", per_class=3)
    outside = make_folders(tmp_path / "outside", per_class=1)
    (root / "rose" / "link.png").symlink_to(outside / "rose" / "0.png")
    ctx = Ctx()
    ctx.settings = RunSettings(data_roots=(str(data),))
    with pytest.raises(NodeError) as err:
        _run(root, ctx)
    assert err.value.code == "path_outside_data_roots" and "rose/link.png" in str(err.value)
    with pytest.raises(NodeError) as err:
        _run(outside, ctx)
    assert err.value.code == "path_outside_data_roots"


def _three_class_graph(root, units: int, activation: str = "softmax") -> Graph:
    graph = tiny_graph(root)
    for node in graph["nodes"]:
        if node["id"] == "dataset":
            node["type"] = "data.ImageFolder"
        if node["id"] == "output":
            node["params"] = {"units": units, "activation": activation}
    return Graph.model_validate(graph)


def test_the_head_must_fit_the_class_folders_while_editing(tmp_path):
    root = make_folders(tmp_path / "flowers", per_class=2)
    assert validate(_three_class_graph(root, 3), components.registry).ok
    for units, activation in ((2, "softmax"), (1, "sigmoid")):
        issues = validate(_three_class_graph(root, units, activation), components.registry).issues
        assert [(i.node, i.port) for i in issues] == [("train", "model")], [i.message for i in issues]
        assert "3" in issues[0].message
    # a folder not there yet: the classes are unknown, nothing to flag
    assert validate(_three_class_graph(tmp_path / "later", 5), components.registry).ok


def test_a_three_class_head_trains_and_evaluates_with_a_3x3_confusion_matrix(runner, tmp_path):
    root = make_folders(tmp_path / "flowers", per_class=8)
    graph = _three_class_graph(root, 3).model_dump()
    status, events, ex = runner.run(graph, ["evaluate"])
    assert status == "finished", [e for e in events if e["type"].endswith("failed")]
    trained, report = ex.results["train"]["model"], ex.results["evaluate"]["report"]
    assert trained.classes == ["daisy", "rose", "tulip"] and trained.loss == "categorical_crossentropy"
    assert len(report.confusion) == 3 and all(len(row) == 3 for row in report.confusion)
    assert sum(map(sum, report.confusion)) == len(ex.results["dataset"]["dataset"].files["test"])
    assert {s["label"] for s in report.samples} <= {"daisy", "rose", "tulip"}


def test_a_count_as_small_as_the_number_of_classes_is_a_count(tmp_path):
    """test=3 over three classes is one image each (it once became the fraction 1.0: every image)."""
    ds, _ = _run(make_folders(tmp_path / "flowers", per_class=10), train=12, validation=6, test=3)
    assert {s: len(f) for s, f in ds.files.items()} == {"train": 12, "validation": 6, "test": 3}
    comp = components.registry.get("data.CatsVsDogs")
    pets = make_image_folder(tmp_path / "pets", per_class=10)
    cats = comp.run(Ctx(), comp.Params(root=str(pets), train=8, validation=4, test=2), {})["dataset"]
    assert {s: len(f) for s, f in cats.files.items()} == {"train": 8, "validation": 4, "test": 2}

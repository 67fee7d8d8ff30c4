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


def _dataset_in_roots(root, roots, **params):
    """The dataset component run the way a studio's worker runs it: told the data roots."""
    comp = components.registry.get("data.CatsVsDogs")
    ctx = Ctx()
    ctx.settings = RunSettings(data_roots=[str(r) for r in roots])
    return comp.run(ctx, comp.Params.model_validate({"root": str(root), **params}), {})["dataset"]


def test_images_linked_from_outside_the_data_roots_fail_the_node(tmp_path):
    data, outside = tmp_path / "data", make_image_folder(tmp_path / "outside", per_class=2, seed=4)
    root = make_image_folder(data / "pets", per_class=6)
    (root / "Dog" / "zz-link.jpg").symlink_to(outside / "Dog" / "0.jpg")
    (root / "Cat" / "a-link.jpg").symlink_to(outside / "Cat" / "1.jpg")
    (root / "Cat" / "inside-link.jpg").symlink_to(root / "Cat" / "0.jpg")   # a link within the root is fine
    with pytest.raises(NodeError) as err:
        _dataset_in_roots(root, [data])
    assert (err.value.code, err.value.param) == ("path_outside_data_roots", "root")
    assert "2 image(s)" in str(err.value) and "Cat/a-link.jpg" in str(err.value)
    # without data roots (the command line) every path is trusted, links included
    ds, _ = _dataset(root)
    assert sum(len(f) for f in ds.files.values()) == 15
    # once the links out are gone the dataset runs, the link inside the root included
    (root / "Dog" / "zz-link.jpg").unlink()
    (root / "Cat" / "a-link.jpg").unlink()
    ds = _dataset_in_roots(root, [data])
    assert "Cat/inside-link.jpg" in [f for s in ds.files.values() for f in s]


def test_dataset_folder_outside_the_data_roots_fails_the_node(tmp_path):
    outside = make_image_folder(tmp_path / "outside", per_class=4)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "PetImages").symlink_to(outside, target_is_directory=True)
    for value in (outside, tmp_path / "data"):          # the folder itself, and PetImages/ linked out
        with pytest.raises(NodeError) as err:
            _dataset_in_roots(value, [tmp_path / "data"])
        assert err.value.code == "path_outside_data_roots"


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_root_is_refused(tmp_path, blank):
    with pytest.raises(NodeError) as err:
        _dataset(blank)
    assert (err.value.code, err.value.param) == ("path_required", "root")


@pytest.mark.parametrize("present", ["Cat", "Dog"])
def test_a_missing_class_folder_is_named(tmp_path, present):
    root = make_image_folder(tmp_path / "pets", per_class=3)
    missing = "Dog" if present == "Cat" else "Cat"
    for f in (root / missing).iterdir():
        f.unlink()
    (root / missing).rmdir()
    with pytest.raises(NodeError) as err:
        _dataset(root)
    assert (err.value.code, err.value.param) == ("dataset_class_missing", "root")
    assert f"{missing}/" in str(err.value) and f"{present}/" in str(err.value) and str(root) in str(err.value)


# -- the download leaves nothing behind when it fails (a loopback server; nothing leaves the machine)
@pytest.fixture(scope="module")
def archive_server(tmp_path_factory):
    """A loopback HTTP server: /ok.zip a real PetImages archive, /fail a 500, /cut a body that stops
    halfway (Content-Length says more), /garbage a body that is no zip (no length)."""
    import io
    import threading
    import zipfile
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    pets = make_image_folder(tmp_path_factory.mktemp("archive") / "PetImages", per_class=4)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(pets.rglob("*.jpg")):
            zf.write(f, f"PetImages/{f.relative_to(pets)}")
    good = buf.getvalue()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == "/ok.zip":
                self.send_response(200)
                self.send_header("Content-Length", str(len(good)))
                self.end_headers()
                self.wfile.write(good)
            elif self.path == "/cut":
                self.send_response(200)
                self.send_header("Content-Length", str(len(good)))
                self.end_headers()
                self.wfile.write(good[: len(good) // 3])
                self.wfile.flush()
                self.close_connection = True
            elif self.path == "/garbage":
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"PK\x03\x04 not really a zip" * 100)
                self.close_connection = True
            else:
                self.send_error(500, "no archive here")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("path", ["/fail", "/cut", "/garbage"])
def test_a_failed_download_into_a_new_folder_leaves_nothing(tmp_path, monkeypatch, archive_server, path):
    monkeypatch.setattr(cats_vs_dogs, "ARCHIVE_URL", archive_server + path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "other.txt").write_text("kept")
    before = _tree(tmp_path)
    with pytest.raises(NodeError) as err:
        _dataset(tmp_path / "data" / "new" / "deeper" / "cats", download=True)
    assert (err.value.code, err.value.param) == ("download_failed", "download")
    assert _tree(tmp_path) == before        # no folder made (not even new/), no partial archive


def test_a_failed_download_into_an_empty_folder_keeps_the_folder_and_nothing_else(tmp_path, monkeypatch,
                                                                                  archive_server):
    monkeypatch.setattr(cats_vs_dogs, "ARCHIVE_URL", archive_server + "/cut")
    (tmp_path / "cats").mkdir()
    with pytest.raises(NodeError) as err:
        _dataset(tmp_path / "cats", download=True)
    assert err.value.code == "download_failed"
    assert _tree(tmp_path) == ["cats"]       # the folder that was there stays, empty


def test_a_cancelled_download_leaves_nothing(tmp_path, monkeypatch, archive_server):
    from backend.engine import Cancelled

    class Cancelling(Ctx):
        def check_cancelled(self):
            raise Cancelled()

    monkeypatch.setattr(cats_vs_dogs, "ARCHIVE_URL", archive_server + "/ok.zip")
    comp = components.registry.get("data.CatsVsDogs")
    with pytest.raises(Cancelled):
        comp.run(Cancelling(), comp.Params.model_validate({"root": str(tmp_path / "a" / "cats"), "download": True}),
                 {})
    assert _tree(tmp_path) == []


@pytest.mark.parametrize("existing", [False, True])
def test_a_complete_download_moves_in_place(tmp_path, monkeypatch, archive_server, existing):
    monkeypatch.setattr(cats_vs_dogs, "ARCHIVE_URL", archive_server + "/ok.zip")
    root = tmp_path / "a" / "cats"
    if existing:
        root.mkdir(parents=True)
    ds, ctx = _dataset(root, download=True)
    assert sum(len(f) for f in ds.files.values()) == 8
    assert any(data.get("code") == "downloading" for _, _, data in ctx.logs)
    assert sorted(p.name for p in tmp_path.joinpath("a").iterdir()) == ["cats"]   # no staging folder left
    assert sorted(p.name for p in root.iterdir()) == ["PetImages"]

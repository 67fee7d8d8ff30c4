"""Uploading a dataset through the studio: zip and tar archives of class folders, and hostile
archives refused with a stable code and nothing left behind."""
from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from .conftest import make_settings

ZIP = {"content-type": "application/zip"}


def _jpeg(seed: int) -> bytes:
    arr = np.random.default_rng(seed).integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG")
    return buf.getvalue()


def _photos(prefix: str = "", classes=("daisy", "rose", "tulip"), per_class: int = 3) -> dict[str, bytes]:
    return {f"{prefix}{c}/{i}.jpg": _jpeg(k * 10 + i) for k, c in enumerate(classes) for i in range(per_class)}


def _zip(files: dict[str, bytes], method=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tar(files: dict[str, bytes], extra: list[tarfile.TarInfo] = (), mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for info in extra:
            tf.addfile(info)
    return buf.getvalue()


@pytest.fixture
def root(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def _client(tmp_path, root, **kw):
    from backend.api.app import create_app

    # an archive's type (a browser sends the file's); without one a body is read as JSON
    return TestClient(create_app(make_settings(tmp_path / "home", root, **kw), start_worker=False),
                      headers={"content-type": "application/octet-stream"})


@pytest.fixture
def client(tmp_path, root):
    with _client(tmp_path, root) as c:
        yield c


def _left(root: Path) -> list[str]:
    """What an upload left in the uploads folder (refusals leave nothing, staging included)."""
    folder = root / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _refused(res, status: int, code: str) -> dict:
    assert res.status_code == status, res.text
    body = res.json()
    assert body["error"]["code"] == code and body["error"]["field"] == "file"
    return body


def test_a_zip_of_class_folders_is_unpacked_listed_and_its_wrapper_dropped(client, root):
    files = _photos("flowers/")
    files["__MACOSX/flowers/daisy/._0.jpg"] = b"mac resource fork"
    files["flowers/rose/inner.zip"] = _zip({"../../escape.jpg": _jpeg(99)})   # a nested archive stays a file
    res = client.post("/api/datasets", params={"name": "flowers"}, content=_zip(files, zipfile.ZIP_DEFLATED),
                      headers=ZIP)
    assert res.status_code == 201, res.text
    out = res.json()
    assert out == {"name": "flowers", "path": "uploads/flowers", "images": 9,
                   "classes": [{"name": n, "images": 3} for n in ("daisy", "rose", "tulip")]}
    folder = root / "uploads" / "flowers"
    assert sorted(p.name for p in folder.iterdir()) == ["daisy", "rose", "tulip"]
    assert (folder / "rose" / "inner.zip").is_file() and not (root / "escape.jpg").exists()
    assert (folder / "daisy" / "0.jpg").read_bytes() == files["flowers/daisy/0.jpg"]
    assert _left(root) == ["flowers"]
    assert client.get("/api/datasets").json() == [out]
    again = client.post("/api/datasets", params={"name": "flowers"}, content=_zip(_photos()), headers=ZIP)
    _refused(again, 409, "dataset_exists")


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:xz"])
def test_a_tar_of_class_folders_is_unpacked(client, root, mode):
    res = client.post("/api/datasets", params={"name": "pets"}, content=_tar(_photos(classes=("cat", "dog")), mode=mode),
                      headers={"content-type": "application/x-tar"})
    assert res.status_code == 201, res.text
    assert [c["name"] for c in res.json()["classes"]] == ["cat", "dog"]
    assert _left(root) == ["pets"]


@pytest.mark.parametrize("entry", ["../x.jpg", "flowers/../../x.jpg", "/tmp/abacus-evil.jpg", "C:/evil.jpg",
                                   "..\\x.jpg"])
def test_a_zip_entry_leaving_the_folder_is_refused(client, root, entry):
    files = {**_photos(), entry: _jpeg(5)}
    _refused(client.post("/api/datasets", params={"name": "slip"}, content=_zip(files), headers=ZIP),
             400, "archive_unsafe_path")
    assert _left(root) == [] and not (root / "x.jpg").exists() and not (root.parent / "x.jpg").exists()
    assert not Path("/tmp/abacus-evil.jpg").exists()


def test_a_tar_entry_with_an_absolute_path_is_refused(client, root):
    _refused(client.post("/api/datasets", params={"name": "abs"}, content=_tar({**_photos(), "/etc/evil": b"x"})),
             400, "archive_unsafe_path")
    assert _left(root) == []


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_links_in_a_tar_are_refused(client, root, kind):
    body = _tar(_photos(), [_link("daisy/passwd.jpg", "/etc/passwd", kind)])
    res = client.post("/api/datasets", params={"name": "links"}, content=body,
                      headers={"content-type": "application/gzip"})
    assert _refused(res, 400, "archive_link")["params"]["entry"] == "daisy/passwd.jpg"
    assert _left(root) == []


def test_a_symlink_in_a_zip_is_refused(client, root):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in _photos().items():
            zf.writestr(name, data)
        link = zipfile.ZipInfo("rose/evil.jpg")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    _refused(client.post("/api/datasets", params={"name": "zlink"}, content=buf.getvalue(), headers=ZIP),
             400, "archive_link")
    assert _left(root) == []


def test_device_files_in_a_tar_are_refused(client, root):
    dev = tarfile.TarInfo("daisy/null")
    dev.type, dev.devmajor, dev.devminor = tarfile.CHRTYPE, 1, 3
    _refused(client.post("/api/datasets", params={"name": "dev"}, content=_tar(_photos(), [dev])),
             400, "archive_special_file")
    assert _left(root) == []


def test_a_zip_bomb_is_refused_by_its_ratio(client, root):
    files = {**_photos(), "rose/bomb.jpg": bytes(16 * 2**20)}   # 16 MB of zeros: about 16 KB deflated
    body = _zip(files, zipfile.ZIP_DEFLATED)
    assert len(body) < 2**20
    _refused(client.post("/api/datasets", params={"name": "bomb"}, content=body, headers=ZIP), 413, "archive_ratio")
    assert _left(root) == []


def test_a_tar_bomb_stops_while_it_unpacks(client, root):
    body = _tar({**_photos(), "rose/bomb.jpg": bytes(8 * 2**20)}, mode="w:xz")
    _refused(client.post("/api/datasets", params={"name": "tbomb"}, content=body), 413, "archive_ratio")
    assert _left(root) == []


def test_too_much_unpacked_and_too_many_files_are_refused(tmp_path, root):
    with _client(tmp_path, root, max_dataset_files=8, max_dataset_unpacked_mb=1) as c:
        _refused(c.post("/api/datasets", params={"name": "many"}, content=_zip(_photos(per_class=3)), headers=ZIP),
                 413, "archive_too_many_files")
        _refused(c.post("/api/datasets", params={"name": "many"}, content=_tar(_photos(per_class=3))),
                 413, "archive_too_many_files")
        noise = np.random.default_rng(0).integers(0, 256, 3 * 2**19, dtype=np.uint8).tobytes()  # 1.5 MB, incompressible
        _refused(c.post("/api/datasets", params={"name": "big"}, content=_zip({"a/1.jpg": noise, "b/1.jpg": b"x"}),
                        headers=ZIP), 413, "archive_too_large")
    assert _left(root) == []


def test_an_archive_over_the_upload_limit_is_cut_off_with_413(tmp_path, root):
    body = np.random.default_rng(1).integers(0, 256, 3 * 2**20, dtype=np.uint8).tobytes()
    with _client(tmp_path, root, max_dataset_upload_mb=1) as c:
        res = c.post("/api/datasets", params={"name": "huge"}, content=body, headers=ZIP)
        assert res.status_code == 413 and res.json()["error"]["code"] == "upload_too_large"

        def chunks():   # no Content-Length: counted as it streams
            for i in range(0, len(body), 64 * 1024):
                yield body[i:i + 64 * 1024]

        res = c.post("/api/datasets", params={"name": "huge"}, content=chunks(), headers=ZIP)
        assert res.status_code == 413 and res.json()["error"]["code"] == "upload_too_large"
        ok = c.post("/api/datasets", params={"name": "small"}, content=_zip(_photos()), headers=ZIP)
        assert ok.status_code == 201
    assert _left(root) == ["small"]


def test_what_is_not_a_dataset_archive_is_refused(client, root):
    _refused(client.post("/api/datasets", params={"name": "text"}, content=b"hello " * 100, headers=ZIP),
             415, "archive_unsupported")
    _refused(client.post("/api/datasets", params={"name": "one"}, content=_zip(_photos(classes=("only",))),
                         headers=ZIP), 422, "dataset_no_classes")
    _refused(client.post("/api/datasets", params={"name": "empty"}, content=b"", headers=ZIP), 400, "upload_empty")
    bad = client.post("/api/datasets", params={"name": "../up"}, content=_zip(_photos()), headers=ZIP)
    assert bad.status_code == 422
    assert _left(root) == []


def test_staging_left_by_a_stopped_server_is_swept(client, root):
    import os
    import time

    stale, fresh = root / "uploads" / ".incoming-old", root / "uploads" / ".incoming-live"
    for folder in (stale, fresh):
        (folder / "unpacked").mkdir(parents=True)
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))
    assert client.post("/api/datasets", params={"name": "after"}, content=_zip(_photos()), headers=ZIP).status_code == 201
    assert _left(root) == [".incoming-live", "after"]
    assert [d["name"] for d in client.get("/api/datasets").json()] == ["after"]

"""The dataset step's check through the studio: warnings while editing, the report, thumbnails."""
from __future__ import annotations

import shutil

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from .conftest import make_settings, wait_run
from .helpers import tiny_graph


def _photo_folder(root, per_class: int = 12, copies: int = 6):
    """Cat/ and Dog/ of smooth random pictures (perceptual hashes need photo-like content), and
    exact copies of the first ``copies`` cats under new names, which the split scatters."""
    rng = np.random.default_rng(3)
    for cls in ("Cat", "Dog"):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            small = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8))
            small.resize((64, 64), Image.BICUBIC).save(root / cls / f"{i}.jpg", quality=90)
    for i in range(copies):
        shutil.copy(root / "Cat" / f"{i}.jpg", root / "Cat" / f"copy{i}.jpg")
    (root / "Dog" / "broken.jpg").write_bytes(b"not an image")
    return root


def _validate(client, graph):
    r = client.post("/api/validate", json={"graph": graph})
    assert r.status_code == 200, r.text
    return r.json()


def test_copies_across_splits_are_reported_and_can_be_removed(tmp_path):
    data = tmp_path / "data"
    _photo_folder(data / "pets")
    graph = tiny_graph("pets")
    ds = next(n for n in graph["nodes"] if n["id"] == "dataset")
    ds["params"].pop("max_per_class")
    with TestClient(__import__("backend.api.app", fromlist=["create_app"]).create_app(
            make_settings(tmp_path / "home", data))) as client:
        before = _validate(client, graph)
        assert before["ok"] and before["warnings"] == []   # nothing known before the dataset ran
        pid = client.post("/api/projects", json={"name": "p", "graph": graph}).json()["id"]
        run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["dataset"], "mode": "node"}).json()
        assert wait_run(client, run["id"])["status"] == "finished"

        after = _validate(client, graph)
        codes = {w["code"]: w for w in after["warnings"]}
        assert after["ok"] and codes["data_leak"]["node"] == "dataset"
        assert codes["images_unreadable"]["params"] == {"count": 1, "first": "Dog/broken.jpg"}
        key = after["keys"]["dataset"]
        check = client.get(f"/api/data-checks/{key}").json()
        assert check["leak_groups"] == codes["data_leak"]["params"]["groups"] > 0
        group = check["leaks"][0]
        assert group["kind"] == "exact" and len(set(group["splits"])) > 1
        assert len({f.split("/")[-1].removeprefix("copy") for f in group["files"]}) == 1   # N.jpg and copyN.jpg
        assert sum(check["counts"]["train"].values()) + sum(check["counts"]["validation"].values()) \
            + sum(check["counts"]["test"].values()) == 12 + 12 + 6
        thumb = client.get(f"/api/data-checks/{key}/thumbnail", params={"file": group["files"][1]})
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        # only files the check names are served
        other = client.get(f"/api/data-checks/{key}/thumbnail", params={"file": "Dog/5.jpg"})
        assert other.status_code == 404 and other.json()["error"]["code"] == "file_not_in_check"
        assert client.get("/api/data-checks/0123abcd").json()["error"]["code"] == "data_check_not_found"

        ds["params"]["dedupe"] = True
        run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["dataset"], "mode": "node",
                                                                "graph": graph}).json()
        assert wait_run(client, run["id"])["status"] == "finished"
        deduped = _validate(client, graph)
        codes = {w["code"]: w for w in deduped["warnings"]}
        assert "data_leak" not in codes and codes["duplicates_removed"]["params"] == {"count": 6}
        check = client.get(f"/api/data-checks/{deduped['keys']['dataset']}").json()
        assert check["leak_groups"] == 0 and sorted(check["removed"]) == [f"Cat/copy{i}.jpg" for i in range(6)]

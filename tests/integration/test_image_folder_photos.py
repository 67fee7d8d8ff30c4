"""Your own photos end to end: a zip of three class folders made from real photos is uploaded to
the studio, picked by an image-folder dataset, and a Dense(3, softmax) head is trained, fine-tuned,
evaluated (a 3 x 3 confusion matrix) and asked for predictions, which come back by class name.
Small on purpose (36 photos, 32 px, one epoch a phase): it checks the path, not the accuracy."""
from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps

from tests.api.conftest import make_settings, wait_run
from tests.api.helpers import tiny_graph
from tests.conftest import SHARED_DATA

PHOTOS = SHARED_DATA / "PetImages"
pytestmark = pytest.mark.skipif(not PHOTOS.is_dir(), reason=f"no photos at {SHARED_DATA}")
CLASSES = ["cat", "dog", "gray"]


def _photo_zip(per_class: int = 12) -> bytes:
    """cat/ and dog/ hold photos as they are; gray/ holds other cats and dogs in grayscale (a
    transformed subset: a third class a pretrained backbone tells apart). Photos at most 96 px."""
    cats, dogs = sorted(PHOTOS.glob("Cat/*.jpg"))[:100], sorted(PHOTOS.glob("Dog/*.jpg"))[:100]
    chosen = {"cat": cats[:per_class], "dog": dogs[:per_class],
              "gray": cats[50:50 + per_class // 2] + dogs[50:50 + per_class - per_class // 2]}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, paths in chosen.items():
            for path in paths:
                with Image.open(path) as im:
                    im = im.convert("RGB")
                    im.thumbnail((96, 96))
                    if name == "gray":
                        im = ImageOps.grayscale(im).convert("RGB")
                    out = io.BytesIO()
                    im.save(out, format="JPEG", quality=90)
                zf.writestr(f"my_pets/{name}/{path.parent.name.lower()}-{path.name}", out.getvalue())
    return buf.getvalue()


def _graph() -> dict:
    g = tiny_graph("uploads/pets3", backbone=True, size=32)
    for node in g["nodes"]:
        if node["id"] == "dataset":
            node["type"] = "data.ImageFolder"
            node["params"] = {"root": "uploads/pets3", "train": 0.5, "validation": 0.25, "test": 0.25, "seed": 1}
        elif node["id"] == "output":
            node["params"] = {"units": 3, "activation": "softmax"}
        elif node["type"] == "training.Trainer":
            node["params"]["loss"] = "auto"
        elif node["id"] == "evaluate":
            node["params"]["samples"] = 4
    return g


def test_three_class_photos_upload_train_finetune_evaluate_predict(tmp_path):
    from backend.api.app import create_app

    root = tmp_path / "data"
    root.mkdir()
    with TestClient(create_app(make_settings(tmp_path / "home", root))) as client:
        up = client.post("/api/datasets", params={"name": "pets3"}, content=_photo_zip(),
                         headers={"content-type": "application/zip"})
        assert up.status_code == 201, up.text
        assert [(c["name"], c["images"]) for c in up.json()["classes"]] == [(c, 12) for c in CLASSES]

        graph = _graph()
        check = client.post("/api/validate", json={"graph": graph}).json()
        assert check["ok"], check
        pid = client.post("/api/projects", json={"name": "pets3", "graph": graph}).json()["id"]
        run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["evaluate"], "mode": "to"}).json()
        final = wait_run(client, run["id"], timeout=600)
        assert final["status"] == "finished", final

        summary = client.get(f"/api/runs/{run['id']}/summary").json()["nodes"]
        assert summary["dataset"]["summary"]["dataset"]["classes"] == CLASSES
        assert summary["dataset"]["summary"]["dataset"]["sizes"] == {"train": 18, "validation": 9, "test": 9}
        for trainer in ("train", "train_finetuned"):
            assert summary[trainer]["state"] == "done"
        report = summary["evaluate"]["summary"]["report"]
        assert report["classes"] == CLASSES
        assert [len(row) for row in report["confusion"]] == [3, 3, 3] and sum(map(sum, report["confusion"])) == 9
        assert {s["label"] for s in report["samples"]} <= set(CLASSES)

        with Image.open(sorted(PHOTOS.glob("Dog/*.jpg"))[-1]) as im:
            out = io.BytesIO()
            im.convert("RGB").save(out, format="JPEG")
        pred = client.post(f"/api/runs/{run['id']}/predict", params={"node": "train_finetuned"},
                           files={"file": ("dog.jpg", out.getvalue(), "image/jpeg")})
        assert pred.status_code == 200, pred.text
        body = pred.json()
        assert body["class"] in CLASSES and set(body["probabilities"]) == set(CLASSES)
        assert abs(sum(body["probabilities"].values()) - 1) < 1e-4

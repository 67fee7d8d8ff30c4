"""A model file becomes a project (the graph that made it), and downloads as ONNX."""
from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient

from .conftest import make_settings, wait_run
from .helpers import jpeg_bytes


def _upload(client, data: bytes, filename: str = "train.pt", **form):
    return client.post("/api/projects/from-model", files={"file": (filename, data, "application/octet-stream")},
                       data=form)


def test_a_model_file_becomes_a_project_with_its_graph_cached_where_the_data_is(client, graph, tmp_path,
                                                                                data_root):
    pid = client.post("/api/projects", json={"name": "p", "graph": graph}).json()["id"]
    run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
    assert wait_run(client, run["id"])["status"] == "finished"
    model = client.get(f"/api/runs/{run['id']}/artifacts/train/model").content

    # the same studio: the trainer's result is here already
    r = _upload(client, model)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["node"] == "train" and made["model_result"] == "stored" and made["id"] != pid
    assert made["name"].endswith("· train")   # NODE.pt: the graph's name and the node
    assert [n["id"] for n in made["graph"]["nodes"]] == [n["id"] for n in graph["nodes"]]
    saved = client.get(f"/api/projects/{made['id']}").json()["graph"]
    check = client.post("/api/validate", json={"graph": saved}).json()
    assert check["ok"] and check["cached"]["train"] is True
    assert _upload(client, model, "my cats.pt").json()["name"] == "my cats"

    # not a model file: a typed 4xx naming the field
    for data, name in ((jpeg_bytes(), "cat.jpg"), (b"", "empty.pt"), (json.dumps(graph).encode(), "g.json")):
        bad = _upload(client, data, name)
        assert bad.status_code == 415, bad.text
        assert bad.json()["error"]["code"] == "not_a_model" and bad.json()["error"]["field"] == "file"

    # ONNX: made by a child process (the server never imports torch), with the model's own answers
    import numpy as np
    import onnx
    import onnxruntime as ort

    r = client.get(f"/api/runs/{run['id']}/artifacts/train/onnx")
    assert r.status_code == 200, r.text
    assert 'filename="train.onnx"' in r.headers["content-disposition"]
    proto = onnx.load_from_string(r.content)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["classes"]) == ["cat", "dog"]
    assert json.loads(meta["input_size"]) == {"height": 32, "width": 32, "channels": 3}
    image = jpeg_bytes(size=48, seed=5)
    pred = client.post(f"/api/runs/{run['id']}/predict", params={"node": "train"},
                       files={"file": ("x.jpg", image, "image/jpeg")}).json()
    from components.torchkit.images import format_image

    pixels = format_image(io.BytesIO(image), 32, 32, 3)   # as predict prepares an image
    session = ort.InferenceSession(r.content, providers=["CPUExecutionProvider"])
    (probs,) = session.run(None, {"image": pixels[None].astype(np.float32).transpose(0, 3, 1, 2) / 255})
    assert abs(probs[0, 1] - pred["probabilities"]["dog"]) < 1e-4
    assert client.get(f"/api/runs/{run['id']}/artifacts/dense/onnx").json()["error"]["code"] == "no_model"

    # another studio with the same data: the uploaded model becomes the trainer's stored result
    from backend.api.app import create_app

    with TestClient(create_app(make_settings(tmp_path / "other", data_root), start_worker=False)) as other:
        r = _upload(other, model)
        assert r.status_code == 201, r.text
        assert r.json()["model_result"] == "imported"
        check = other.post("/api/validate", json={"graph": r.json()["graph"]}).json()
        assert check["cached"]["train"] is True and check["keys"]["train"] == made_key(client, saved)
        assert _upload(other, model).json()["model_result"] == "stored"


def made_key(client, graph) -> str:
    return client.post("/api/validate", json={"graph": graph}).json()["keys"]["train"]


def test_an_upload_over_the_limit_is_refused(tmp_path, data_root):
    from backend.api.app import create_app

    app = create_app(make_settings(tmp_path / "home", data_root, max_upload_bytes=1000), start_worker=False)
    with TestClient(app) as c:
        r = _upload(c, b"x" * 5000)
        assert r.status_code == 413 and r.json()["error"] == {
            "code": "upload_too_large", "message": r.json()["error"]["message"], "node": None, "port": None,
            "field": "file"}

"""GET /api/weights, POST /api/weights/{name}/fetch and the upload, and the templates' downloads,
against a loopback server serving a test catalog (nothing reaches the internet)."""
from __future__ import annotations

import os
import socket

import pytest
from fastapi.testclient import TestClient

from tests.weights_server import WeightsServer, write_catalog

from .conftest import make_settings
from .helpers import wait_for


@pytest.fixture
def server():
    with WeightsServer() as s:
        yield s


@pytest.fixture
def setup(tmp_path, data_root, monkeypatch, server):
    """An app on a test catalog, an empty torch hub cache, and small upload limits elsewhere."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    catalog = tmp_path / "catalog.json"
    blobs = write_catalog(catalog, server)
    return tmp_path, catalog, blobs


def _client(tmp_path, catalog, data_root, **kw):
    from backend.api.app import create_app

    settings = make_settings(tmp_path / "home", data_root, weights_catalog=catalog, max_upload_bytes=1000,
                             max_body_bytes=1000, **kw)
    return TestClient(create_app(settings, start_worker=False))


def _weights(client) -> dict:
    r = client.get("/api/weights")
    assert r.status_code == 200, r.text
    return {w["name"]: w for w in r.json()}


def test_list_and_fetch_with_progress(setup, data_root, server):
    tmp_path, catalog, blobs = setup
    with _client(tmp_path, catalog, data_root) as client:
        listed = _weights(client)
        tiny = listed["tiny"]
        assert tiny["present"] is False and tiny["size"] == len(blobs["tiny"]) and tiny["components"] == []
        assert listed["vgg16"]["components"] == ["backbones.VGG16"]
        assert tiny["url"] == f"{server.base}/tiny-weights.pth" and tiny["download"]["state"] == "idle"
        assert tiny["path"] == str(tmp_path / "torch" / "hub" / "checkpoints" / "tiny-weights.pth")

        r = client.post("/api/weights/tiny/fetch")
        assert r.status_code == 202, r.text
        assert r.json()["download"]["state"] in ("running", "done")
        done = wait_for(lambda: (w := _weights(client)["tiny"])["present"] and w, 20, 0.05, "the download")
        assert done["download"] == {"state": "done", "done_bytes": len(blobs["tiny"]),
                                    "total_bytes": len(blobs["tiny"]), "phase": None, "error": None}
        assert (tmp_path / "torch" / "hub" / "checkpoints" / "tiny-weights.pth").read_bytes() == blobs["tiny"]

        assert client.post("/api/weights/nope/fetch").json()["error"]["code"] == "weights_not_found"


def test_a_failed_fetch_says_which_url_and_where(setup, data_root):
    tmp_path, catalog, _ = setup
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        mirror = f"http://127.0.0.1:{s.getsockname()[1]}"
    with _client(tmp_path, catalog, data_root, weights_mirror=mirror) as client:
        assert client.post("/api/weights/vgg16/fetch").status_code == 202
        failed = wait_for(lambda: (w := _weights(client)["vgg16"])["download"]["state"] == "failed" and w,
                          20, 0.05, "the download to fail")
        error = failed["download"]["error"]
        assert error["code"] == "fetch_failed" and f"{mirror}/vgg16-397923af.pth" in error["message"]
        assert failed["path"] in error["message"] and failed["present"] is False


def test_upload_past_the_usual_limit_verified(setup, data_root):
    tmp_path, catalog, blobs = setup
    with _client(tmp_path, catalog, data_root) as client:
        bad = client.post("/api/weights/tiny", files={"file": ("tiny.pth", os.urandom(len(blobs["tiny"])))})
        assert bad.status_code == 415, bad.text
        assert (bad.json()["error"]["code"], bad.json()["error"]["field"]) == ("digest_mismatch", "file")
        assert not (tmp_path / "torch" / "hub" / "checkpoints").exists() or \
            list((tmp_path / "torch" / "hub" / "checkpoints").iterdir()) == []

        # the same bytes elsewhere are past the body limit: only this route's limit is raised
        other = client.post("/api/projects/from-model", files={"file": ("m.pt", blobs["tiny"])})
        assert other.status_code == 413
        too_big = client.post("/api/weights/tiny", files={"file": ("t.pth", b"x" * (len(blobs["tiny"]) + (2 << 20)))})
        assert too_big.status_code == 413

        good = client.post("/api/weights/tiny", files={"file": ("tiny.pth", blobs["tiny"])})
        assert good.status_code == 201, good.text
        assert good.json()["present"] is True
        assert (tmp_path / "torch" / "hub" / "checkpoints" / "tiny-weights.pth").read_bytes() == blobs["tiny"]


def test_templates_say_which_download_they_need(setup, data_root):
    tmp_path, catalog, blobs = setup
    with _client(tmp_path, catalog, data_root) as client:
        templates = {t["id"]: t for t in client.get("/api/templates").json()}
        vgg = templates["model_optimization_finetuning"]
        assert vgg["weights"] == [{"name": "vgg16", "file": "vgg16-397923af.pth", "size": len(blobs["vgg16"]),
                                   "present": False}]
        assert templates["model_optimization_finetuning_offline"]["weights"] == []
        one = client.get("/api/templates/model_optimization_finetuning").json()
        assert one["weights"] == vgg["weights"]

        assert client.post("/api/weights/vgg16", files={"file": ("v.pth", blobs["vgg16"])}).status_code == 201
        vgg = {t["id"]: t for t in client.get("/api/templates").json()}["model_optimization_finetuning"]
        assert vgg["weights"][0]["present"] is True

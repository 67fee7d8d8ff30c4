"""Deleting an uploaded dataset: its folder in the uploads folder goes, and nothing else can:
a name that is not one folder name is refused before the disk is looked at, and a link in the
uploads folder is not a dataset (the listing does not show it either)."""
from __future__ import annotations

from pathlib import Path

import pytest

from backend.api import dataset_uploads as uploads

from .test_datasets import ZIP, _client, _photos, _zip


@pytest.fixture
def root(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def client(tmp_path, root):
    with _client(tmp_path, root) as c:
        for name in ("flowers", "pets"):
            res = c.post("/api/datasets", params={"name": name}, content=_zip(_photos()), headers=ZIP)
            assert res.status_code == 201, res.text
        yield c


def _error(res, status: int, code: str) -> dict:
    assert res.status_code == status, res.text
    error = res.json()["error"]
    assert error["code"] == code and error["field"] == "name", error
    return error


def test_a_dataset_is_deleted_and_answers_what_it_held(client, root):
    res = client.delete("/api/datasets/flowers")
    assert res.status_code == 200, res.text
    assert res.json() == {"name": "flowers", "path": "uploads/flowers", "images": 9,
                          "classes": [{"name": n, "images": 3} for n in ("daisy", "rose", "tulip")]}
    # gone from the disk (no staging folder left either) and from the listing; the other stays
    assert sorted(p.name for p in (root / "uploads").iterdir()) == ["pets"]
    assert [d["name"] for d in client.get("/api/datasets").json()] == ["pets"]
    _error(client.delete("/api/datasets/flowers"), 404, "dataset_not_found")


def test_an_unknown_dataset_is_a_404(client, root):
    _error(client.delete("/api/datasets/tulips"), 404, "dataset_not_found")
    assert sorted(p.name for p in (root / "uploads").iterdir()) == ["flowers", "pets"]


@pytest.mark.parametrize("name", ["%2E%2E", "%2E", "..%5Cdata", "a%5Cb", ".hidden", ".incoming-x", "-rf", "flowers%00"])
def test_a_name_that_is_not_one_folder_name_is_a_400(client, root, name):
    _error(client.delete(f"/api/datasets/{name}"), 400, "dataset_name_invalid")
    assert sorted(p.name for p in (root / "uploads").iterdir()) == ["flowers", "pets"]


@pytest.mark.parametrize("name", ["..", ".", "../data", "flowers/../pets", "..\\data", "/tmp", ""])
def test_delete_refuses_a_path_whoever_calls_it(client, root, name):
    # a client may send what httpx would normalize away (``/api/datasets/..``): the check is the module's own
    with pytest.raises(uploads.UploadError) as refused:
        uploads.delete(name, [root])
    assert (refused.value.status, refused.value.code) == (400, "dataset_name_invalid")
    assert sorted(p.name for p in (root / "uploads").iterdir()) == ["flowers", "pets"] and (root / "uploads").is_dir()


@pytest.mark.parametrize("name", ["..%2Fdata", "%2E%2E%2F%2E%2E%2Fprecious", "flowers%2F..%2F..%2Fprecious"])
def test_a_path_never_reaches_outside_the_uploads_folder(client, root, tmp_path, name):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    res = client.delete(f"/api/datasets/{name}")
    assert res.status_code in (400, 404), res.text   # a slash never matches {name}: the router's 404
    assert (precious / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in (root / "uploads").iterdir()) == ["flowers", "pets"]


def test_a_link_in_the_uploads_folder_is_not_followed(client, root, tmp_path):
    outside = tmp_path / "outside"
    (outside / "cats").mkdir(parents=True)
    (outside / "cats" / "0.jpg").write_bytes(b"x")
    (root / "uploads" / "linked").symlink_to(outside, target_is_directory=True)
    _error(client.delete("/api/datasets/linked"), 404, "dataset_not_found")
    assert (outside / "cats" / "0.jpg").is_file() and (root / "uploads" / "linked").is_symlink()


def test_a_dataset_a_queued_run_reads_is_kept_until_the_run_ends(client, root):
    """No worker here (start_worker=False): the run stays queued, as one waiting for a busy worker."""
    from .helpers import tiny_graph

    res = client.post("/api/datasets", params={"name": "catsdogs"}, headers=ZIP,
                      content=_zip(_photos(classes=("Cat", "Dog"), per_class=4)))
    assert res.status_code == 201, res.text
    as_json = {"content-type": "application/json"}   # this client sends archives by default
    made = client.post("/api/projects", json={"name": "uses it", "graph": tiny_graph("uploads/catsdogs")}, headers=as_json)
    assert made.status_code == 201, made.text
    run = client.post(f"/api/projects/{made.json()['id']}/runs", json={"targets": ["train"], "mode": "to"}, headers=as_json)
    assert run.status_code in (200, 201, 202), run.text
    run_id = run.json()["id"]
    res = client.delete("/api/datasets/catsdogs")
    error = _error(res, 409, "dataset_in_use")
    assert error["node"] == "dataset" and res.json()["params"] == {"name": "catsdogs", "run": run_id, "node": "dataset"}
    assert (root / "uploads" / "catsdogs").is_dir()
    # another dataset is not held by that run
    assert client.delete("/api/datasets/pets").status_code == 200
    # once the run has ended, the dataset goes
    assert client.post(f"/api/runs/{run_id}/cancel").status_code in (200, 202, 204)
    assert client.get(f"/api/runs/{run_id}").json()["status"] not in ("queued", "running")
    assert client.delete("/api/datasets/catsdogs").status_code == 200


def test_used_by_finds_the_dataset_in_any_params_path():
    graphs = [("r1", {"nodes": [{"id": "a", "params": {"root": "uploads/flowersx"}}]}),
              ("r2", {"nodes": [{"id": "b", "params": {"root": "/srv/data/uploads/flowers/", "n": 3}}]})]
    assert uploads.used_by("flowers", graphs) == ("r2", "b")
    assert uploads.used_by("flowers", graphs[:1]) is None
    assert uploads.used_by("flowersx", graphs) == ("r1", "a")

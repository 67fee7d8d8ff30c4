"""The models a run offers: each named by its run, time and epoch, a cancelled trainer's partial
model as downloadable and usable as a finished one, and uploads that are no image refused in words."""
from __future__ import annotations

import io

from .conftest import wait_run
from .helpers import jpeg_bytes, tiny_graph, wait_for


def new_project(client, graph) -> int:
    return client.post("/api/projects", json={"name": "p", "graph": graph}).json()["id"]


def events_of(client, run_id: str) -> list[dict]:
    return client.get(f"/api/runs/{run_id}/events").json()


def test_a_cancelled_run_offers_the_model_of_its_last_completed_epoch(client, settings):
    pid = new_project(client, tiny_graph("cv", epochs=1000))
    run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
    wait_for(lambda: sum(e["type"] == "node.metrics" for e in events_of(client, run["id"])) >= 2, 120,
             what="two epochs")
    client.post(f"/api/runs/{run['id']}/cancel")
    assert wait_run(client, run["id"])["status"] == "cancelled"

    events = events_of(client, run["id"])
    epochs = [e for e in events if e["type"] == "node.metrics"]
    # the events carry the partial model: a log line with its summary (run, node and epoch)
    saved = [e for e in events if e["type"] == "node.log" and e.get("model")]
    assert len(saved) == 1 and saved[0]["node"] == "train"
    model = saved[0]["model"]
    assert model["kind"] == "model" and model["best_epoch"] == model["epochs"] == len(epochs) >= 2
    assert model["model_file"].endswith(f"cancelled-epoch{len(epochs)}.pt")
    assert events[-1]["type"] == "run.cancelled"
    # every epoch says which epoch the trainer keeps so far (keep-best is on by default)
    assert all(isinstance(e["best_epoch"], int) and 1 <= e["best_epoch"] <= e["epoch"] for e in epochs)

    # the run's summary has it as the cancelled trainer's output
    node = client.get(f"/api/runs/{run['id']}/summary").json()["nodes"]["train"]
    assert node["state"] == "cancelled" and node["summary"]["model"]["model_file"] == model["model_file"]

    # the dispatcher recorded it: listed with its run, time and epoch, marked partial
    artifacts = client.get(f"/api/runs/{run['id']}/artifacts").json()
    assert len(artifacts) == 1
    art = artifacts[0]
    assert (art["node"], art["kind"], art["run_id"], art["partial"]) == ("train", "model", run["id"], True)
    assert art["epoch"] == art["epochs"] == len(epochs) and art["path"] == model["model_file"]
    assert art["created_at"].endswith("+00:00")

    # downloadable, and it predicts like any other model
    file = client.get(art["url"])
    assert file.status_code == 200 and file.content == open(model["model_file"], "rb").read()
    pred = client.post(f"/api/runs/{run['id']}/predict", params={"node": "train"},
                       files={"file": ("cat.jpg", jpeg_bytes(), "image/jpeg")})
    assert pred.status_code == 200, pred.text
    assert pred.json()["class"] in ("cat", "dog")

    # nothing half-done went to the cache: the same graph still needs the trainer to run
    check = client.post("/api/validate", json={"graph": tiny_graph("cv", epochs=1000)}).json()
    assert check["cached"]["train"] is False


def test_a_finished_model_names_the_epoch_it_keeps(client):
    pid = new_project(client, tiny_graph("cv", epochs=3))
    run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
    assert wait_run(client, run["id"])["status"] == "finished"
    events = events_of(client, run["id"])
    model = next(e for e in events if e["type"] == "node.finished" and e["node"] == "train")["summary"]["model"]
    epochs = [e for e in events if e["type"] == "node.metrics"]
    # the last epoch's best_epoch is the one the trained model keeps: one definition everywhere
    assert epochs[-1]["best_epoch"] == model["best_epoch"]
    art = client.get(f"/api/runs/{run['id']}/artifacts").json()[0]
    assert (art["epoch"], art["epochs"], art["partial"]) == (model["best_epoch"], 3, False)


def test_an_upload_that_is_no_image_gets_a_typed_415(client):
    pid = new_project(client, tiny_graph("cv", epochs=1))
    run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
    assert wait_run(client, run["id"])["status"] == "finished"
    url, node = f"/api/runs/{run['id']}/predict", {"node": "train"}
    text = client.post(url, params=node, files={"file": ("notes.txt", b"just some words\n", "text/plain")})
    # a JPEG whose header is fine but whose pixels are cut off: the worker cannot decode it
    cut = client.post(url, params=node, files={"file": ("cut.jpg", jpeg_bytes()[:200], "image/jpeg")})
    empty = client.post(url, params=node, files={"file": ("empty.png", b"", "image/png")})
    for answer in (text, cut, empty):
        assert answer.status_code == 415, answer.text
        error = answer.json()["error"]
        assert error["code"] == "not_an_image" and error["field"] == "file"
        assert "BytesIO" not in error["message"] and "0x" not in error["message"]
    png = io.BytesIO()
    __import__("PIL.Image").Image.new("RGB", (20, 20), (200, 30, 30)).save(png, format="PNG")
    ok = client.post(url, params=node, files={"file": ("red.png", png.getvalue(), "image/png")})
    assert ok.status_code == 200, ok.text

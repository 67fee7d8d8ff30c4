"""Evaluation sample images: GET /api/runs/{run}/samples/{node}/{index}."""
from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image

from backend.engine import events as ev
from backend.engine.summaries import EvaluationSummary

from .conftest import make_settings, wait_run
from .helpers import make_image_folder, tiny_graph

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_sample_images_are_served_from_the_report(tmp_path):
    from backend.api.app import create_app

    data_root = tmp_path / "data"
    big = make_image_folder(data_root / "big", per_class=8, size=400, seed=3)
    settings = make_settings(tmp_path / "home", data_root, token=TOKEN)
    graph = tiny_graph(str(big))
    graph["nodes"][[n["id"] for n in graph["nodes"]].index("evaluate")]["params"]["samples"] = 3
    with TestClient(create_app(settings)) as client:
        pid = client.post("/api/projects", json={"name": "p", "graph": graph}, headers=AUTH).json()["id"]
        run = client.post(f"/api/projects/{pid}/runs", json={"targets": ["evaluate"], "mode": "to"},
                          headers=AUTH).json()
        client.headers.update(AUTH)
        assert wait_run(client, run["id"])["status"] == "finished"
        del client.headers["Authorization"]
        events = client.get(f"/api/runs/{run['id']}/events", headers=AUTH).json()
        report = next(e for e in events if e["type"] == "node.finished" and e["node"] == "evaluate")["summary"]["report"]
        assert report["root"] == str(big.resolve()) and len(report["samples"]) == 3
        base = f"/api/runs/{run['id']}/samples/evaluate"

        # Without the token: refused; with the header, ?token= or the cookie it sets: the image.
        assert client.get(f"{base}/0").status_code == 401
        r = client.get(f"{base}/0", headers=AUTH)
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        img = Image.open(io.BytesIO(r.content))
        assert img.format == "JPEG" and max(img.size) == 256  # 400 px photos come back at most 256 px
        original = Image.open(big / report["samples"][0]["path"])
        assert abs(img.size[0] / img.size[1] - original.size[0] / original.size[1]) < 0.02
        r = client.get(f"{base}/2", params={"token": TOKEN})
        assert r.status_code == 200 and "abacus_token" in r.headers["set-cookie"]
        assert client.get(f"{base}/1").status_code == 200  # the cookie alone now

        def error(url, status):
            resp = client.get(url, headers=AUTH)
            assert resp.status_code == status, resp.text
            return resp.json()["error"]["code"]

        assert error(f"{base}/3", 404) == "sample_not_found"
        assert error(f"{base}/-1", 422) == "invalid_request"
        assert error(f"{base}/x", 422) == "invalid_request"
        assert error(f"/api/runs/{run['id']}/samples/nowhere/0", 404) == "node_not_found"
        assert error(f"/api/runs/{run['id']}/samples/train/0", 404) == "no_samples"
        assert error("/api/runs/0abc/samples/evaluate/0", 404) == "run_not_found"

        # A report naming a file outside every data root, a missing file, an unreadable file:
        # typed errors, never a 500. (Reports come from the worker; these stand in for a tampered
        # database or files changed on disk after the run.)
        outside = tmp_path / "outside.jpg"
        Image.new("RGB", (8, 8)).save(outside)
        (big / "broken.jpg").write_bytes(b"not a jpeg")
        samples = [{"path": p, "label": "cat", "predicted": "cat", "probability": 1.0}
                   for p in ("../../outside.jpg", str(outside), "Cat/none.jpg", "broken.jpg")]
        services = client.app.state.services

        def stored_report(**fields):
            summary = EvaluationSummary.model_validate({**report, **fields})
            services.events.append(run["id"], ev.NodeCached(node="evaluate", key="k", summary={"report": summary}))

        stored_report(root=str(big), samples=samples)
        assert error(f"{base}/0", 403) == "path_outside_data_roots"
        assert error(f"{base}/1", 403) == "path_outside_data_roots"
        assert error(f"{base}/2", 404) == "sample_missing"
        assert error(f"{base}/3", 409) == "sample_unreadable"

        # A report from before Evaluate named its root: the root comes from the run's graph.
        old = [{**s, "path": report["samples"][0]["path"]} for s in samples[:1]]
        stored_report(root="", samples=old)
        r = client.get(f"{base}/0", headers=AUTH)
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"

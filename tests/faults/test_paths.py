"""Probes of the data-root policy: every file a run reads must resolve inside a data root.

Blank paths, links inside a dataset that point out of the roots, class folders linked out,
a param left out (its default is resolved like any other value), and a half-made dataset.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.conftest import make_settings, wait_run
from api.helpers import make_image_folder, tiny_graph


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """(client, data root, outside folder): one app with a worker, on a root with probe datasets."""
    from backend.api.app import create_app

    base = tmp_path_factory.mktemp("paths")
    root, outside = base / "root", base / "outside"
    make_image_folder(outside / "pets", per_class=3, seed=5)             # images outside every root
    make_image_folder(root / "good", per_class=6)
    linked = make_image_folder(root / "linked", per_class=6)
    (linked / "Cat" / "evil.jpg").symlink_to(outside / "pets" / "Cat" / "0.jpg")
    (linked / "Dog" / "evil2.jpg").symlink_to(outside / "pets" / "Dog" / "1.jpg")
    catlink = make_image_folder(root / "catlink", per_class=6)
    for f in (catlink / "Cat").iterdir():
        f.unlink()
    (catlink / "Cat").rmdir()
    (catlink / "Cat").symlink_to(outside / "pets" / "Cat", target_is_directory=True)
    (root / "whole").symlink_to(outside / "pets", target_is_directory=True)
    make_image_folder(root / "halfcat", per_class=4)
    for f in (root / "halfcat" / "Dog").iterdir():
        f.unlink()
    (root / "halfcat" / "Dog").rmdir()
    with TestClient(create_app(make_settings(base / "home", root))) as client:
        yield client, root, outside


def _graph(root_value):
    g = tiny_graph("good")
    node = next(n for n in g["nodes"] if n["id"] == "dataset")
    if root_value is None:
        node["params"].pop("root", None)
    else:
        node["params"]["root"] = root_value
    return g


def _project(client, graph) -> int:
    return client.post("/api/projects", json={"name": "p", "graph": graph}).json()["id"]


def _run_dataset(client, graph) -> tuple[dict, list[dict]]:
    pid = _project(client, graph)
    r = client.post(f"/api/projects/{pid}/runs", json={"targets": ["dataset"], "mode": "node"})
    assert r.status_code == 201, r.text
    final = wait_run(client, r.json()["id"], 60)
    return final, client.get(f"/api/runs/{final['id']}/events").json()


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_root_is_refused_by_validation_and_run(probe, blank):
    client, _, _ = probe
    graph = _graph(blank)
    check = client.post("/api/validate", json={"graph": graph}).json()
    assert check["ok"] is False
    issue = next(i for i in check["issues"] if i["node"] == "dataset")
    assert (issue["code"], issue["param"]) == ("path_required", "root")
    assert "dataset" in issue["message"] and "root" in issue["message"]

    pid = _project(client, graph)
    r = client.post(f"/api/projects/{pid}/runs", json={"targets": ["dataset"], "mode": "node"})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert (err["code"], err["node"], err["field"]) == ("path_required", "dataset", "root")
    # the graph sent with the run is checked the same way
    r = client.post(f"/api/projects/{pid}/runs", json={"targets": ["dataset"], "graph": graph})
    assert r.status_code == 422 and r.json()["error"]["code"] == "path_required"


def test_blank_weights_file_is_refused_when_weights_come_from_a_file(probe):
    client, _, _ = probe
    graph = tiny_graph("good", backbone=True)
    backbone = next(n for n in graph["nodes"] if n["id"] == "backbone")
    backbone["params"].update(weights="file", weights_file=" ")
    issues = client.post("/api/validate", json={"graph": graph}).json()["issues"]
    assert [(i["code"], i["node"], i["param"]) for i in issues] == [("path_required", "backbone", "weights_file")]
    backbone["params"].update(weights="imagenet")   # not read: an empty value is harmless
    assert not [i for i in client.post("/api/validate", json={"graph": graph}).json()["issues"]
                if i["node"] == "backbone"]


def test_symlinked_weights_file_pointing_outside_is_refused(probe):
    client, root, outside = probe
    (outside / "w.pt").write_bytes(b"not really weights")
    link = root / "w-link.pt"
    if not link.is_symlink():
        link.symlink_to(outside / "w.pt")
    graph = tiny_graph("good", backbone=True)
    next(n for n in graph["nodes"] if n["id"] == "backbone")["params"].update(weights="file",
                                                                             weights_file="w-link.pt")
    issues = client.post("/api/validate", json={"graph": graph}).json()["issues"]
    assert [(i["code"], i["node"], i["param"]) for i in issues] == \
        [("path_outside_data_roots", "backbone", "weights_file")]


def test_left_out_root_resolves_inside_the_data_roots(probe):
    """A graph without ``root`` gets the component's default, resolved like a value sent: absent,
    it is refused naming the default; once there (empty here), the run reads it inside the root."""
    client, root, _ = probe
    pid = _project(client, _graph(None))
    r = client.post(f"/api/projects/{pid}/runs", json={"targets": ["dataset"], "mode": "node"})
    assert r.status_code == 422, r.text
    issue = r.json()["issues"][0]
    assert (issue["code"], issue["param"], issue["params"]["value"]) == ("path_not_found", "root", "data/cats_vs_dogs")
    (root / "data" / "cats_vs_dogs").mkdir(parents=True, exist_ok=True)
    r = client.post(f"/api/projects/{pid}/runs", json={"targets": ["dataset"], "mode": "node"})
    assert r.status_code == 201, r.text
    stored = client.app.state.services.runs.get(r.json()["id"])
    value = next(n for n in stored.graph["nodes"] if n["id"] == "dataset")["params"]["root"]
    assert Path(value).is_relative_to(root.resolve())
    final = wait_run(client, r.json()["id"], 60)
    assert final["status"] == "failed" and final["error"]["code"] == "dataset_empty"


def test_linked_image_pointing_outside_fails_the_node_naming_it(probe):
    client, _, _ = probe
    final, events = _run_dataset(client, _graph("linked"))
    assert final["status"] == "failed"
    failed = next(e for e in events if e["type"] == "node.failed")
    assert (failed["node"], failed["code"]) == ("dataset", "path_outside_data_roots")
    assert "Cat/evil.jpg" in failed["message"] and "2 image" in failed["message"]
    assert "root" in failed["message"]


def test_class_folder_linked_outside_fails_the_node(probe):
    client, _, _ = probe
    final, events = _run_dataset(client, _graph("catlink"))
    assert final["status"] == "failed"
    failed = next(e for e in events if e["type"] == "node.failed")
    assert failed["code"] == "path_outside_data_roots" and "Cat/0.jpg" in failed["message"]


def test_dataset_folder_linked_outside_is_refused(probe):
    client, _, _ = probe
    graph = _graph("whole")
    issues = client.post("/api/validate", json={"graph": graph}).json()["issues"]
    assert [(i["code"], i["node"], i["param"]) for i in issues] == [("path_outside_data_roots", "dataset", "root")]


def test_good_dataset_still_runs(probe):
    client, _, _ = probe
    final, _ = _run_dataset(client, _graph("good"))
    assert final["status"] == "finished", final


def test_folder_with_only_cat_names_the_missing_class(probe):
    client, root, _ = probe
    final, events = _run_dataset(client, _graph("halfcat"))
    failed = next(e for e in events if e["type"] == "node.failed")
    assert failed["code"] == "dataset_class_missing"
    assert "Dog/" in failed["message"] and str((root / "halfcat").resolve()) in failed["message"]


def test_command_line_refuses_a_blank_root_too(tmp_path):
    """The command line trusts every path (no data roots), but a blank one reads the working
    directory: it is refused there as well."""
    import components
    from backend.runs import RunRejected, RunService
    from backend.store.artifacts import FileResultStore

    service = RunService(components.registry, FileResultStore(tmp_path / "cache"))
    with pytest.raises(RunRejected) as err:
        service.prepare(_graph(" "), ["dataset"], "node")
    assert [(i["code"], i["node"], i["param"]) for i in err.value.issues] == [("path_required", "dataset", "root")]
    prepared = service.prepare(_graph(str(tmp_path / "pets")), ["dataset"], "node")
    assert prepared.settings.data_roots is None            # the command line trusts every path

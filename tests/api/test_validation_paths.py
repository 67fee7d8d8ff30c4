"""Missing dataset folders and weight files are issues while editing (POST /api/validate), not
failures after a run: with a stable code, on the node and param at fault, naming the path as typed
and the data roots searched."""
from __future__ import annotations

import copy
import json

import pytest

from .helpers import REPO, tiny_graph

VGG_TEMPLATE = REPO / "templates" / "model_optimization_finetuning.json"


def _set_root(graph, value, **params):
    node = next(n for n in graph["nodes"] if n["id"] == "dataset")
    node["params"].update(root=value, **params)
    return graph


def _issues(client, graph, node=None):
    body = client.post("/api/validate", json={"graph": graph}).json()
    return [i for i in body["issues"] if node is None or i["node"] == node], body


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch hub cache: the VGG16 ImageNet weights are absent whatever this machine holds."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


@pytest.mark.parametrize("typed", ["does_not_exist", "data/does_not_exist", "cv/missing/deeper"])
def test_a_missing_dataset_folder_is_an_issue_naming_the_value_as_typed(shared_client, data_root, typed):
    issues, body = _issues(shared_client, _set_root(tiny_graph("cv"), typed))
    assert body["ok"] is False and body["keys"] == {}
    assert [(i["code"], i["node"], i["param"]) for i in issues] == [("path_not_found", "dataset", "root")]
    issue = issues[0]
    assert issue["params"] == {"value": typed, "roots": [str(data_root)]}
    assert f"'{typed}'" in issue["message"] and str(data_root) in issue["message"]
    assert str(data_root / typed) not in issue["message"]          # not a path the person never typed


def test_an_absolute_missing_folder_inside_a_root_is_an_issue(shared_client, data_root):
    typed = str(data_root / "gone")
    issues, _ = _issues(shared_client, _set_root(tiny_graph("cv"), typed))
    assert [(i["code"], i["params"]["value"]) for i in issues] == [("path_not_found", typed)]


def test_an_existing_folder_is_no_issue(shared_client, data_root):
    for value in ("cv", str(data_root / "cv")):
        issues, body = _issues(shared_client, _set_root(tiny_graph("cv"), value))
        assert issues == [] and body["ok"] is True and "dataset" in body["keys"]


def test_a_missing_folder_to_download_into_is_no_issue(shared_client):
    issues, body = _issues(shared_client, _set_root(tiny_graph("cv"), "to_download", download=True))
    assert issues == [] and body["ok"] is True
    # download off again: the folder must be there
    issues, _ = _issues(shared_client, _set_root(tiny_graph("cv"), "to_download", download=False))
    assert [i["code"] for i in issues] == ["path_not_found"]


def test_a_missing_folder_refuses_the_run(shared_client):
    graph = _set_root(tiny_graph("cv"), "does_not_exist")
    pid = shared_client.post("/api/projects", json={"name": "missing", "graph": graph}).json()["id"]
    r = shared_client.post(f"/api/projects/{pid}/runs", json={"targets": ["dataset"], "mode": "node"})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert (err["code"], err["node"], err["field"]) == ("path_not_found", "dataset", "root")


def test_missing_vgg16_weights_are_an_issue_on_the_backbone(shared_client, torch_home):
    graph = _set_root(json.loads(VGG_TEMPLATE.read_text(encoding="utf-8")), "cv")
    issues, body = _issues(shared_client, graph)
    assert body["ok"] is False
    assert [(i["code"], i["node"], i["param"]) for i in issues] == [("weights_missing", "vgg16", "weights")]
    expected = torch_home / "hub" / "checkpoints" / "vgg16-397923af.pth"
    params = issues[0]["params"]
    assert params["path"] == str(expected) and params["file"] == "vgg16-397923af.pth"
    assert params["url"].startswith("https://download.pytorch.org/")
    assert str(expected) in issues[0]["message"] and "abacus weights fetch vgg16" in issues[0]["message"]
    assert params["weights_name"] == "vgg16"

    expected.parent.mkdir(parents=True)
    expected.write_bytes(b"")                         # present: validation only looks whether it is there
    issues, body = _issues(shared_client, graph)
    assert issues == [] and body["ok"] is True

    random_weights = copy.deepcopy(graph)             # weights not read: nothing to flag
    expected.unlink()
    next(n for n in random_weights["nodes"] if n["id"] == "vgg16")["params"]["weights"] = "none"
    assert _issues(shared_client, random_weights)[0] == []


def test_a_missing_weights_file_is_an_issue_on_weights_file(shared_client, data_root):
    graph = tiny_graph("cv", backbone=True)
    backbone = next(n for n in graph["nodes"] if n["id"] == "backbone")
    backbone["params"].update(weights="file", weights_file="weights/nope.pt")
    issues, _ = _issues(shared_client, graph)
    assert [(i["code"], i["node"], i["param"], i["params"]["value"]) for i in issues] == \
        [("path_not_found", "backbone", "weights_file", "weights/nope.pt")]
    backbone["params"].update(weights="imagenet")    # the file is not read then
    assert _issues(shared_client, graph, "backbone")[0] == []


def test_validation_stays_torch_free_and_quick(shared_client, torch_home):
    import subprocess
    import sys

    code = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "import components\n"
        "from backend.engine import Graph\n"
        "from backend.runs.paths import resolve_data_paths\n"
        f"g = Graph.model_validate(json.loads(Path({str(VGG_TEMPLATE)!r}).read_text()))\n"
        "t = time.perf_counter()\n"
        "for _ in range(200): resolve_data_paths(g, [Path('/nonexistent-root')], components.registry)\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'ms': (time.perf_counter() - t) * 5}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["torch"] is False
    assert result["ms"] < 20, result                 # per validation of the template, a few stat calls

"""Why it ran (issue 16): each node's verdict with its reason, from the CLI's dry run and runs, and
the engine's diff of key ingredients; nodes a run did not need show as cached (issue 13, 8)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import make_image_folder, of_type, tiny_graph

ABACUS = [sys.executable, "-m", "backend.cli"]


def _abacus(home, *args):
    env = {**os.environ, "ABACUS_HOME": str(home)}
    return subprocess.run([*ABACUS, *map(str, args)], capture_output=True, text=True, env=env, timeout=600)


def test_diff_names_params_upstream_data_version_and_rewiring():
    from backend.engine.why import diff

    old = {"component": "layers.Dense", "version": 1, "params": {"units": 8, "activation": "relu"},
           "inputs": {"input": ["k1", "output"], "other": ["k9", "a"]}, "external": "f1",
           "deferred": {"backbone": {"fine_tune_layers": ["top"]}}}
    new = {"component": "layers.Dense", "version": 2, "params": {"units": 16, "activation": "relu"},
           "inputs": {"input": ["k2", "output"], "other": ["k9", "b"]}, "external": "f2",
           "deferred": {"backbone": {"fine_tune_layers": ["top", "block6"]}}}
    changes = diff(old, new, {"input": ("flatten", "output"), "other": ("x", "b")})
    got = {(c.what, c.param, c.node, c.port) for c in changes}
    assert got == {("version", None, None, None), ("param", "units", None, None),
                   ("param", "fine_tune_layers", "backbone", None), ("data", None, None, None),
                   ("upstream", None, "flatten", "input"), ("input", None, "x", "other")}
    units = next(c for c in changes if c.param == "units")
    assert (units.old, units.new) == (8, 16)
    assert [c.what for c in diff(old, {**new, "component": "layers.Conv"}, {})] == ["component"]


def _plan(home, graph, targets, mode="to", sets=()):
    """``abacus plan``'s answer, in this process (the same service and index, without a subprocess)."""
    import components
    from backend.cli import _apply_sets, _load_graph
    from backend.runs import RunService
    from backend.runs.why import graph_scope, preview_of
    from backend.store.artifacts import FileResultStore

    g = _load_graph(str(graph))
    _apply_sets(g, list(sets))
    service = RunService(components.registry, FileResultStore(home / "cache"))
    return preview_of(service.prepare(g, targets, mode, scope=graph_scope(str(graph)))).model_dump(mode="json")


def test_plan_and_run_say_why_each_node_runs_or_comes_from_the_cache(tmp_path):
    root = make_image_folder(tmp_path / "pets", per_class=6, size=(32, 32))
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps(tiny_graph(root, epochs=1)))
    home = tmp_path / "home"

    res = _abacus(home, "plan", graph, "--to", "train", "--json")
    assert res.returncode == 0, res.stderr
    plan = json.loads(res.stdout)
    assert plan["run"] == plan["order"] and plan["cached"] == []
    assert {w["reason"] for w in plan["why"].values()} == {"new"}   # nothing ran for this graph yet

    res = _abacus(home, "run", graph, "--to", "train", "--json")
    assert res.returncode == 0, res.stderr
    first = json.loads(res.stdout)
    assert first["why"]["train"]["reason"] == "new" and first["why"]["train"]["runs"] is True
    res = _abacus(home, "run", graph, "--to", "train")   # from the store: no worker
    assert "train: cached (run " + first["run_id"] in res.stderr, res.stderr   # the CLI's summary

    # a dry run after param changes: dense runs for its param, the nodes after it for their upstream,
    # the trainer for its own param too; evaluate never ran here
    why = _plan(home, graph, ["evaluate"], sets=["dense.units=16", "train.epochs=2"])["why"]
    assert [(c["what"], c["param"], c["old"], c["new"]) for c in why["dense"]["changes"]] == [("param", "units", 8, 16)]
    assert [(c["what"], c["node"]) for c in why["output"]["changes"]] == [("upstream", "dense")]
    assert {(c["what"], c["param"] or c["node"]) for c in why["train"]["changes"]} == {
        ("param", "epochs"), ("upstream", "output")}
    assert why["train"]["previous"]["key"] == first["nodes"]["train"]["key"]   # the result it last had
    assert why["evaluate"]["reason"] == "new" and why["input"]["reason"] == "not_stored"

    plan = _plan(home, graph, ["evaluate"])
    assert plan["run"][-1] == "evaluate" and "format" in plan["run"]
    assert {"input", "flatten", "dense", "output", "optimizer", "train"} <= set(plan["cached"])
    assert plan["why"]["format"]["reason"] == "not_stored"   # images: made again, unless a worker still holds them
    assert plan["why"]["train"]["origin"]["run_id"] == first["run_id"]   # stored by the first run
    assert plan["why"]["dense"]["needed"] is False and plan["why"]["dense"]["origin"]["run_id"] == first["run_id"]
    assert _plan(home, graph, ["dataset"], mode="node")["why"]["dataset"]["reason"] == "forced"   # run this node
    # data files changed: the dataset says so, and the nodes after it name it as their upstream
    make_image_folder(root, per_class=7, size=(32, 32))
    why = _plan(home, graph, ["train"])["why"]
    assert [c["what"] for c in why["dataset"]["changes"]] == ["data"]
    assert [(c["what"], c["node"]) for c in why["format"]["changes"]] == [("upstream", "dataset")]


def test_nodes_a_run_did_not_need_are_reported_cached(runner, image_folder):
    """A second graph with the same front (another project's): the trainer runs, the model comes
    from memory, and the layers before it are cached in this run, not "not run"."""
    graph = tiny_graph(image_folder, epochs=1)
    status, _, _ = runner.run(graph, ["train"])
    assert status == "finished"
    other = tiny_graph(image_folder, epochs=2)
    status, events, _ = runner.run(other, ["train"])
    assert status == "finished"
    started = of_type(events, "run.started")[0]
    assert "train" in started["plan"] and "output" in started["cached"]
    for node in ("input", "flatten", "dense"):
        assert node not in started["plan"] + started["cached"]
        cached = of_type(events, "node.cached", node)
        assert cached and cached[0]["summary"], node   # with its summary, from memory
    # a fresh worker (nothing in memory): the layers are not in the cache, so not reported
    status, events, _ = runner.run(tiny_graph(image_folder, epochs=3), ["train"], fresh_memory=True)
    assert status == "finished" and not of_type(events, "node.cached", "input")

"""diff(old, new): what changed between two saved graphs, as typed items."""
from __future__ import annotations

import copy

from backend.engine.graph_diff import CHANGES, MoreChanges, changes_json, diff, registry_defaults


def graph():
    return {
        "nodes": [
            {"id": "in", "type": "layers.Input", "params": {"height": 150, "width": 150}, "position": {"x": 0, "y": 0}},
            {"id": "dense", "type": "layers.Dense", "label": "Head", "params": {"units": 256},
             "position": {"x": 0, "y": 200}, "group": "g1"},
            {"id": "opt", "type": "optimizers.Adam", "params": {}, "position": {"x": 300, "y": 0}},
        ],
        "edges": [{"id": "e1", "source": "in", "sourceHandle": "output", "target": "dense", "targetHandle": "input"}],
        "groups": [{"id": "g1", "label": {"en": "Model", "zh": "模型"}, "position": {"x": 0, "y": 0},
                    "width": 400, "height": 300}],
    }


def kinds(changes):
    return [c.kind for c in changes]


def test_no_changes():
    assert diff(graph(), graph()) == []


def test_first_version_is_created():
    [created] = diff(None, graph())
    assert created.kind == "created" and created.nodes == 3


def test_nodes_added_and_removed_with_their_names():
    new = graph()
    new["nodes"] = [n for n in new["nodes"] if n["id"] != "opt"]
    new["nodes"].append({"id": "drop", "type": "layers.Dropout", "label": None, "params": {"rate": 0.5}})
    changes = diff(graph(), new)
    assert kinds(changes) == ["node_removed", "node_added"]
    assert changes[0].node.model_dump() == {"id": "opt", "type": "optimizers.Adam", "label": None}
    assert changes[1].node.model_dump() == {"id": "drop", "type": "layers.Dropout", "label": None}


def test_params_changed_old_and_new():
    new = graph()
    new["nodes"][1]["params"]["units"] = 128
    new["nodes"][0]["params"]["height"] = 150.0  # the same number
    changes = diff(graph(), new)
    assert [c.model_dump() for c in changes] == [{
        "kind": "param_changed", "node": {"id": "dense", "type": "layers.Dense", "label": "Head"},
        "param": "units", "old": 256, "new": 128}]


def test_a_missing_param_reads_as_its_default():
    defaults = {"optimizers.Adam": {"learning_rate": 0.001, "beta_1": 0.9}}.get
    new = graph()
    new["nodes"][2]["params"] = {"learning_rate": 0.0001, "beta_1": 0.9}  # beta_1 set to its default: no change
    [change] = diff(graph(), new, defaults=lambda t: defaults(t) or {})
    assert (change.param, change.old, change.new) == ("learning_rate", 0.001, 0.0001)
    # without defaults the former value is unknown (null)
    [change] = diff(graph(), new)[:1]
    assert (change.param, change.old, change.new) == ("learning_rate", None, 0.0001)


def test_registry_defaults_reads_the_components():
    import components

    defaults = registry_defaults(components.registry)
    assert defaults("layers.Dense")["units"] > 0 and defaults("no.Such") == {}


def test_renamed_regrouped_and_moved():
    new = graph()
    new["nodes"][1]["label"] = "Classifier"
    new["nodes"][1]["group"] = None
    new["nodes"][0]["position"] = {"x": 40, "y": 0}
    new["nodes"][2]["position"] = {"x": 300.0, "y": 0.0}  # the same place
    changes = diff(graph(), new)
    assert kinds(changes) == ["node_renamed", "node_regrouped", "layout"]
    renamed, regrouped, layout = changes
    assert (renamed.old, renamed.new, renamed.node.label) == ("Head", "Classifier", "Classifier")
    assert regrouped.old.model_dump() == {"id": "g1", "label": {"en": "Model", "zh": "模型"}} and regrouped.new is None
    assert (layout.nodes, layout.groups) == (1, 0)


def test_edges_added_and_removed_by_their_ends():
    new = graph()
    new["edges"][0]["id"] = "renamed"  # the same wire
    assert diff(graph(), new) == []
    new["edges"] = [{"source": "in", "sourceHandle": "output", "target": "opt", "targetHandle": "params"}]
    removed, added = diff(graph(), new)
    assert removed.kind == "edge_removed" and (removed.source.id, removed.source_port) == ("in", "output")
    assert (removed.target.label, removed.target_port) == ("Head", "input")
    assert added.kind == "edge_added" and added.target.type == "optimizers.Adam"


def test_a_removed_nodes_wires_still_name_it():
    new = graph()
    new["nodes"] = new["nodes"][:1]
    new["edges"] = []
    changes = diff(graph(), new)
    assert kinds(changes) == ["node_removed", "node_removed", "edge_removed"]
    assert changes[2].target.model_dump() == {"id": "dense", "type": "layers.Dense", "label": "Head"}


def test_groups_added_removed_renamed_and_resized():
    new = graph()
    new["groups"][0]["label"] = {"en": "Network", "zh": "网络"}
    new["groups"][0]["width"] = 500
    new["groups"].append({"id": "g2", "label": {"en": "Data", "zh": "数据"}})
    changes = diff(graph(), new)
    assert kinds(changes) == ["group_added", "group_renamed", "layout"]
    assert changes[1].old == {"en": "Model", "zh": "模型"} and changes[1].group.label["zh"] == "网络"
    assert changes[2].groups == 1
    assert kinds(diff(new, graph())) == ["group_removed", "group_renamed", "layout"]


def test_a_new_component_under_the_same_id_is_removed_then_added():
    new = graph()
    new["nodes"][2]["type"] = "optimizers.RMSprop"
    assert kinds(diff(graph(), new)) == ["node_removed", "node_added"]


def test_incomplete_graphs_are_read_leniently():
    assert diff({}, {"nodes": [{"id": "a"}], "edges": [{"source": "a"}], "groups": "x"})[0].node.type == ""
    assert diff({"nodes": None}, {}) == []


def test_long_lists_end_with_a_count_and_round_trip_as_json():
    new = {"nodes": [{"id": f"n{i}", "type": "layers.Dense"} for i in range(30)]}
    changes = diff({}, new, limit=10)
    assert len(changes) == 10 and changes[-1] == MoreChanges(count=21)
    assert CHANGES.validate_python(changes_json(changes)) == changes


def test_old_graph_is_not_modified():
    old = graph()
    frozen = copy.deepcopy(old)
    diff(old, {"nodes": []})
    assert old == frozen

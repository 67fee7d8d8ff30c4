import copy

import components
from backend.engine import Graph, validate
from backend.engine.templates import find_template, list_templates


def _validate(doc):
    return validate(Graph.model_validate(doc), components.registry)


def _template(name="model_optimization_finetuning"):
    return find_template(name)["graph"]


def test_every_template_validates_with_zero_issues():
    templates = list_templates()
    assert {t["id"] for t in templates} >= {"model_optimization_finetuning", "model_optimization_finetuning_offline"}
    for t in templates:
        v = _validate(t["graph"])
        assert v.issues == [], (t["id"], v.issues)


def test_template_has_the_five_groups_and_named_nodes():
    for name in ("模型优化与微调", "model_optimization_finetuning_offline"):
        doc = find_template(name)["graph"]
        labels = {g["label"]["zh"] for g in doc["groups"]}
        assert labels == {"模型搭建", "数据加载", "模型训练", "模型微调", "图像格式化"}
        ids = {n["id"] for n in doc["nodes"]}
        assert {"dataset", "train", "finetune", "train_finetuned", "evaluate"} <= ids
        assert all(n["group"] in {g["id"] for g in doc["groups"]} for n in doc["nodes"])


def test_shapes_are_inferred_without_torch():
    v = _validate(_template())
    label = {n: {p: s.describe() for p, s in ports.items()} for n, ports in v.specs.items()}
    assert label["input"]["output"] == "150x150x3"
    assert label["vgg16"]["output"] == "4x4x512"
    assert label["flatten"]["output"] == "8192"
    assert label["dense"]["output"] == "256"
    assert label["output"]["output"] == "1"
    offline = _validate(_template("model_optimization_finetuning_offline"))
    assert offline.specs["backbone"]["output"].shape == (5, 5, 1280)


def test_every_issue_is_reported_at_once_with_codes_and_places():
    doc = copy.deepcopy(_template())
    nodes = {n["id"]: n for n in doc["nodes"]}
    nodes["dense"]["params"]["units"] = 0                       # out of range
    nodes["train"]["params"]["epochs"] = "many"                 # wrong type
    nodes["format"]["params"]["height"] = 224                   # crops to 224, the Input says 150
    doc["nodes"].append({"id": "mystery", "type": "layers.DoesNotExist"})
    doc["edges"] = [e for e in doc["edges"] if e["target"] != "finetune" or e["targetHandle"] != "model"]
    doc["edges"].append({"source": "ghost", "sourceHandle": "output", "target": "flatten", "targetHandle": "input"})
    doc["edges"].append({"source": "dataset", "sourceHandle": "dataset", "target": "evaluate", "targetHandle": "model"})
    v = _validate(doc)
    found = {(i.code, i.node, i.port or i.param) for i in v.issues}
    assert ("invalid_param", "dense", "units") in found
    assert ("invalid_param", "train", "epochs") in found
    # pydantic's error type and context travel with it: the editor words them in Chinese
    units = next(i for i in v.issues if i.code == "invalid_param" and i.param == "units")
    assert units.params == {"type": "greater_than_equal", "ge": 1}
    epochs = next(i for i in v.issues if i.code == "invalid_param" and i.param == "epochs")
    assert epochs.params == {"type": "int_parsing"}
    assert ("unknown_component", "mystery", None) in found
    assert ("missing_input", "finetune", "model") in found
    assert ("missing_node", "ghost", None) in found
    assert ("incompatible_types", "evaluate", "model") in found
    grouped = v.issues_by_node()
    assert set(grouped) >= {"dense", "train", "mystery", "finetune", "evaluate"}
    assert all(i.message for i in v.issues)


def test_shape_mismatch_names_the_port():
    doc = copy.deepcopy(_template())
    next(n for n in doc["nodes"] if n["id"] == "format")["params"].update(height=224, width=224)
    v = _validate(doc)
    issue = next(i for i in v.issues if i.node == "train")
    assert issue.code == "shape_mismatch" and issue.port == "images"
    assert "224x224x3" in issue.message and "150x150x3" in issue.message


def test_cycle_is_reported():
    doc = {"nodes": [{"id": "a", "type": "layers.Dense"}, {"id": "b", "type": "layers.Dense"}],
           "edges": [{"source": "a", "sourceHandle": "output", "target": "b", "targetHandle": "input"},
                     {"source": "b", "sourceHandle": "output", "target": "a", "targetHandle": "input"}]}
    v = _validate(doc)
    assert {i.node for i in v.issues if i.code == "cycle"} == {"a", "b"}


def test_two_edges_into_one_port_and_unknown_ports():
    doc = copy.deepcopy(_template())
    doc["edges"].append({"source": "input", "sourceHandle": "output", "target": "flatten", "targetHandle": "input"})
    doc["edges"].append({"source": "input", "sourceHandle": "nope", "target": "dense", "targetHandle": "input"})
    v = _validate(doc)
    codes = {(i.code, i.node) for i in v.issues}
    assert ("multiple_inputs", "flatten") in codes and ("unknown_port", "input") in codes


def test_dense_without_flatten_and_fine_tune_layer_names():
    doc = copy.deepcopy(_template())
    doc["edges"] = [e for e in doc["edges"] if e["target"] != "dense"]
    doc["edges"].append({"source": "vgg16", "sourceHandle": "output", "target": "dense", "targetHandle": "input"})
    v = _validate(doc)
    assert {(i.code, i.node, i.port) for i in v.issues} == {("shape_mismatch", "dense", "input")}
    doc = copy.deepcopy(_template())
    nodes = {n["id"]: n for n in doc["nodes"]}
    nodes["vgg16"]["params"]["fine_tune_layers"] = ["block5_conv9"]
    assert {(i.code, i.node, i.param) for i in _validate(doc).issues} == {("invalid_param", "vgg16", "fine_tune_layers")}
    doc = copy.deepcopy(_template())
    next(n for n in doc["nodes"] if n["id"] == "finetune")["params"]["layers"] = ["block7a"]
    assert {(i.code, i.node, i.param) for i in _validate(doc).issues} == {("invalid_param", "finetune", "layers")}


def test_large_generated_graph_validates():
    nodes = [{"id": "n0", "type": "layers.Input", "params": {}}]
    edges = []
    for i in range(1, 1000):
        nodes.append({"id": f"n{i}", "type": "layers.Dropout", "params": {"rate": 0.1}})
        edges.append({"source": f"n{i - 1}", "sourceHandle": "output", "target": f"n{i}", "targetHandle": "input"})
    v = _validate({"nodes": nodes, "edges": edges})
    assert v.ok and v.specs["n999"]["output"].shape == (150, 150, 3)

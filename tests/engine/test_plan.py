import copy

import components
from backend.engine import Graph, compute_keys, make_plan, validate
from backend.engine.templates import find_template


def _keys(doc):
    g = Graph.model_validate(doc)
    v = validate(g, components.registry)
    assert v.ok, v.issues
    return compute_keys(g, v, components.registry)


def _set(doc, node, **params):
    doc = copy.deepcopy(doc)
    next(n for n in doc["nodes"] if n["id"] == node)["params"].update(params)
    return doc


def test_keys_are_stable_and_cover_ancestors(image_folder):
    doc = _set(find_template("model_optimization_finetuning_offline")["graph"], "dataset", root=str(image_folder))
    a, b = _keys(doc), _keys(copy.deepcopy(doc))
    assert a == b
    changed = _keys(_set(doc, "dense", units=128))
    assert changed["dense"] != a["dense"] and changed["train"] != a["train"]
    assert changed["dataset"] == a["dataset"] and changed["optimizer"] == a["optimizer"]


def test_fine_tune_choice_does_not_touch_the_first_training(image_folder):
    doc = _set(find_template("model_optimization_finetuning_offline")["graph"], "dataset", root=str(image_folder))
    base = _keys(doc)
    other = _keys(_set(doc, "backbone", fine_tune_layers=["block6d", "block7a", "top"]))
    assert other["backbone"] == base["backbone"]
    assert other["train"] == base["train"]
    assert other["finetune"] != base["finetune"]
    assert other["train_finetuned"] != base["train_finetuned"]
    tuned = _keys(_set(doc, "train_finetuned", epochs=7))
    assert tuned["train"] == base["train"] and tuned["train_finetuned"] != base["train_finetuned"]


def test_external_data_changes_the_key(image_folder):
    doc = _set(find_template("model_optimization_finetuning_offline")["graph"], "dataset", root=str(image_folder))
    before = _keys(doc)
    (image_folder / "Cat" / "0.jpg").write_bytes((image_folder / "Cat" / "1.jpg").read_bytes())
    after = _keys(doc)
    assert before["dataset"] != after["dataset"] and before["train"] != after["train"]


def test_plan_takes_only_ancestors():
    doc = find_template("model_optimization_finetuning")["graph"]
    g = Graph.model_validate(doc)
    v = validate(g, components.registry)
    plan = make_plan(g, v, components.registry, ["flatten"], "to")
    assert set(plan.order) == {"input", "vgg16", "flatten"}
    everything = make_plan(g, v, components.registry, [], "all")
    assert set(everything.targets) == {"evaluate"} and len(everything.order) == len(doc["nodes"])
    bad = make_plan(g, v, components.registry, ["nope"], "to")
    assert isinstance(bad, list) and bad[0].code == "unknown_target"

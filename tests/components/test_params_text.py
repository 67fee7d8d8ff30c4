"""Every parameter of every component says what it is, in English and in Chinese: the
editor's forms show these titles and descriptions."""
import re

import pytest

import components

CJK = re.compile(r"[\u4e00-\u9fff]")
PARAMS = [(c.id, name, prop) for c in components.registry.all()
          for name, prop in c.Params.model_json_schema().get("properties", {}).items()]


def test_there_are_params_to_check():
    assert len(PARAMS) > 30


@pytest.mark.parametrize("component_id, name, prop", PARAMS, ids=[f"{c}.{n}" for c, n, _ in PARAMS])
def test_each_param_has_a_title_and_a_description_in_both_languages(component_id, name, prop):
    for key in ("title", "description", "x-title-zh", "x-description-zh"):
        assert isinstance(prop.get(key), str) and prop[key].strip(), f"{component_id}.{name}: no {key}"
    assert CJK.search(prop["x-description-zh"]), f"{component_id}.{name}: the Chinese description is not Chinese"
    assert not CJK.search(prop["title"] + prop["description"]), f"{component_id}.{name}: Chinese in the English text"


def test_the_component_catalog_publishes_them():
    adam = components.registry.get("optimizers.Adam").describe()["params_schema"]["properties"]
    assert adam["learning_rate"]["title"] == "Learning rate" and adam["learning_rate"]["x-title-zh"] == "学习率"
    assert adam["beta_2"]["description"] and adam["beta_2"]["x-description-zh"]


# Latin words a Chinese title or description may keep: proper names (and file names, below).
PROPER = {"imagenet", "relu", "sigmoid", "softmax", "tanh", "rgb", "petimages", "kaggle", "keras", "nesterov",
          "vgg16", "efficientnet-lite0", "torchvision", "pypi", "rmsprop", "adam", "sgd"}


@pytest.mark.parametrize("component_id, name, prop", PARAMS, ids=[f"{c}.{n}" for c, n, _ in PARAMS])
def test_each_choice_has_a_label_in_both_languages(component_id, name, prop):
    """The editor shows a choice by its label, never the raw value (binary_crossentropy)."""
    if "enum" not in prop:
        return
    for key in ("x-enum-titles", "x-enum-titles-zh"):
        assert set(prop.get(key) or {}) == {str(v) for v in prop["enum"]}, f"{component_id}.{name}: {key}"
    assert all(CJK.search(t) or t.lower() in PROPER or t[0].isdigit() for t in prop["x-enum-titles-zh"].values())


@pytest.mark.parametrize("component_id, name, prop", PARAMS, ids=[f"{c}.{n}" for c, n, _ in PARAMS])
def test_the_chinese_text_names_no_raw_value(component_id, name, prop):
    text = prop["x-title-zh"] + " " + prop["x-description-zh"]
    # words, not file names as the user types them (Cat/, cat.N.jpg)
    words = {w.lower() for w in re.findall(r"(?<![\w./])[A-Za-z][\w-]{2,}(?![\w/.])", text)}
    assert words <= PROPER, f"{component_id}.{name}: {words - PROPER} in {text}"

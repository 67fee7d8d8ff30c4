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

"""The dataset step's check in the editor: copies across splits shown with thumbnails and named
in a warning, class balance per split, and "remove duplicates" clearing the leak; in Chinese and
in English. Real photos from ../shared/data/cats_vs_dogs, some copied under new names.
"""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from e2e_helpers import node, select_node, wait_validated

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

REPO = Path(__file__).resolve().parents[2]
OFFLINE = REPO / "templates" / "model_optimization_finetuning_offline.json"
PHOTOS = REPO.parent / "shared" / "data" / "cats_vs_dogs" / "PetImages"


@pytest.fixture(scope="module")
def copied_pets(data_root) -> Path:
    """12 real photos per class; two cats copied byte for byte, one dog saved again smaller."""
    if not PHOTOS.is_dir():
        pytest.skip("../shared/data/cats_vs_dogs is not here")
    root = data_root / "pets_with_copies"
    for cls in ("Cat", "Dog"):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for src in sorted((PHOTOS / cls).glob("*.jpg"))[:12]:
            shutil.copy(src, root / cls / src.name)
    cats = sorted((root / "Cat").glob("*.jpg"))
    for src in cats[:2]:
        shutil.copy(src, root / "Cat" / f"copy-{src.name}")
    dog = sorted((root / "Dog").glob("*.jpg"))[0]
    with Image.open(dog) as im:
        im.convert("RGB").resize((im.width * 2 // 3, im.height * 2 // 3)).save(root / "Dog" / f"small-{dog.name}",
                                                                             quality=70)
    return root


def wait_state(page, node_id, state, timeout=60_000):
    page.wait_for_function("([id, s]) => document.querySelector(`[data-testid=node-card][data-node=${id}]`)"
                           "?.dataset.state === s", arg=[node_id, state], timeout=timeout)


def test_copies_across_splits_are_shown_with_thumbnails_in_chinese(page, shot, copied_pets):
    graph = copy.deepcopy(json.loads(OFFLINE.read_text(encoding="utf-8")))
    params = next(n for n in graph["nodes"] if n["id"] == "dataset")["params"]
    params.update(root=str(copied_pets), seed=7)
    params.pop("max_per_class", None)
    created = page.request.post(page.base_url + "/api/projects", data={"name": "数据检查", "graph": graph})
    assert created.ok, created.text()
    page.goto(page.base_url + f"/#/project/{created.json()['id']}")
    node(page, "dataset").wait_for()
    select_node(page, "dataset")
    page.get_by_test_id("inspector").get_by_role("button", name="运行此节点").click()
    wait_state(page, "dataset", "done")
    panel = page.get_by_test_id("data-check")
    panel.wait_for()
    page.get_by_test_id("data-warning").first.wait_for()
    warning = panel.locator('[data-code="data_leak"]')
    warning.wait_for()
    text = warning.inner_text()
    assert "在其他划分中有副本" in text and ".jpg" in text, text
    leaks = panel.get_by_test_id("data-leak")
    assert leaks.count() >= 1
    # every thumbnail of a copy loads (the server reads it from inside the data root)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=data-leak] img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    assert "训练集" in panel.get_by_test_id("data-balance").inner_text()
    panel.scroll_into_view_if_needed()
    shot(page, "60-zh-data-check")


def test_the_check_in_english_and_removing_duplicates(page, shot):
    page.get_by_test_id("lang-switch").click()
    panel = page.get_by_test_id("data-check")
    page.wait_for_function("() => document.querySelector('[data-testid=data-check]')?.textContent.includes('Data check')")
    assert "have a copy in another split" in panel.locator('[data-code="data_leak"]').inner_text()
    panel.scroll_into_view_if_needed()
    shot(page, "61-en-data-check")

    page.get_by_test_id("param-dedupe").click()
    wait_validated(page)
    page.get_by_test_id("inspector").get_by_role("button", name="Run this node").click()
    wait_state(page, "dataset", "done")
    page.wait_for_selector('[data-testid=data-warning][data-code="duplicates_removed"]')
    assert panel.get_by_test_id("data-leak").count() == 0
    assert page.locator('[data-testid=data-warning][data-code="data_leak"]').count() == 0
    shot(page, "62-en-data-check-deduped")
    page.get_by_test_id("lang-switch").click()   # leave the page Chinese for the next module's expectations
    assert not page.errors, page.errors

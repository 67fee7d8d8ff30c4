"""A dataset folder that does not exist is flagged while editing, in the person's language, with the
path as typed; fixing it clears the issue; a failed run's error goes once the node's params change.

The tests share one page (a Chinese browser) and run in order. The project they make is deleted
at the end, so the other browser tests find the project list as they left it.
"""
from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest

from e2e_helpers import node, select_node

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

REPO = Path(__file__).resolve().parents[2]
OFFLINE = REPO / "templates" / "model_optimization_finetuning_offline.json"
TYPED = "data/does_not_exist"


# -- helpers ----------------------------------------------------------------------------------
def set_root(page, value):
    select_node(page, "dataset")
    page.get_by_test_id("param-root").fill(value)


def wait_issues(page, count):
    page.wait_for_function("(n) => document.querySelector('[data-testid=issues-badge]')?.dataset.count === String(n)",
                           arg=count)
    time.sleep(0.4)  # validation is debounced: no answer still on its way


def wait_state(page, node_id, state, timeout=60_000):
    page.wait_for_function("([id, s]) => document.querySelector(`[data-testid=node-card][data-node=${id}]`)"
                           "?.dataset.state === s", arg=[node_id, state], timeout=timeout)


# -- the tests --------------------------------------------------------------------------------
def test_a_missing_folder_is_an_issue_on_the_node_in_chinese(page, shot, data_root):
    graph = copy.deepcopy(json.loads(OFFLINE.read_text(encoding="utf-8")))
    next(n for n in graph["nodes"] if n["id"] == "dataset")["params"]["root"] = str(data_root / "pets")
    created = page.request.post(page.base_url + "/api/projects", data={"name": "缺失的文件夹", "graph": graph})
    assert created.ok, created.text()
    page.goto(page.base_url + f"/#/project/{created.json()['id']}")
    page.wait_for_selector('[data-testid="node-card"][data-node="dataset"]')
    wait_issues(page, 0)

    set_root(page, TYPED)
    wait_issues(page, 1)                       # the header says there is an issue, while editing
    card_issue = node(page, "dataset").get_by_test_id("node-issue")
    card_issue.wait_for()
    assert card_issue.get_attribute("data-code") == "path_not_found"
    text = card_issue.inner_text()
    assert "找不到" in text and f"“{TYPED}”" in text, text          # Chinese, with the path as typed
    assert str(data_root / TYPED) not in text
    detail = page.get_by_test_id("inspector-issue").inner_text()
    assert "数据根目录" in detail and str(data_root) in detail, detail   # and where it was looked for
    assert "path_not_found" not in detail                          # worded here, no bare code
    shot(page, "missing-path-zh")


def test_fixing_the_folder_clears_the_issue(page):
    set_root(page, "pets")                     # relative to the data root, as a person would type it
    wait_issues(page, 0)
    assert node(page, "dataset").get_by_test_id("node-issue").count() == 0
    assert page.get_by_test_id("inspector-issue").count() == 0


def test_a_failed_runs_error_goes_once_the_param_changes(page, shot, data_root):
    (data_root / "empty-pets").mkdir(exist_ok=True)     # there, but no photos: the run fails
    set_root(page, "empty-pets")
    wait_issues(page, 0)
    page.get_by_test_id("run-node").click()
    wait_state(page, "dataset", "failed")
    fail = node(page, "dataset").get_by_test_id("node-fail")
    fail.wait_for()
    assert fail.get_attribute("data-code") == "dataset_empty"
    assert page.locator(".insp-fail").count() == 1
    run_error = page.get_by_test_id("run-error")
    run_error.wait_for()
    assert run_error.get_attribute("data-outdated") is None
    shot(page, "missing-path-failed-run-zh")

    set_root(page, "pets")                     # another folder: the failure is out of date
    wait_state(page, "dataset", "stale")
    assert fail.count() == 0                   # the card's error box is gone
    assert page.locator(".insp-fail").count() == 0
    page.wait_for_function("() => document.querySelector('[data-testid=run-error]')?.dataset.outdated === 'true'")
    assert "已过期" in run_error.inner_text()
    shot(page, "missing-path-failure-outdated-zh")

    set_root(page, "empty-pets")               # back to what failed: its error applies again
    wait_state(page, "dataset", "failed")
    fail.wait_for()
    assert page.locator(".insp-fail").count() == 1

    set_root(page, TYPED)                      # a folder that is not there: the issue, not the old error
    wait_issues(page, 1)
    wait_state(page, "dataset", "stale")
    assert fail.count() == 0 and page.locator(".insp-fail").count() == 0
    assert node(page, "dataset").get_by_test_id("node-issue").get_attribute("data-code") == "path_not_found"


def test_the_issue_in_english(page, shot):
    set_root(page, TYPED)
    wait_issues(page, 1)
    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=run-all]')?.textContent.includes('Run all')")
    text = node(page, "dataset").get_by_test_id("node-issue").inner_text()
    assert text.startswith("Not found") and f"“{TYPED}”" in text, text
    assert "data roots" in page.get_by_test_id("inspector-issue").inner_text()
    shot(page, "missing-path-en")
    page.get_by_test_id("lang-switch").click()   # the choice is remembered: leave Chinese behind
    page.wait_for_function("() => !document.querySelector('[data-testid=run-all]')?.textContent.includes('Run all')")
    assert not page.errors, page.errors

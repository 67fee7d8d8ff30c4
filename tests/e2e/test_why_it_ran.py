"""Why it ran (issue 16), and the nodes a run did not need (issue 13, 8) across two projects.

One studio, two projects made from the same template: the first trains; the second runs to its
trainer (other epochs) while the nodes before it come from the worker's memory, made by the first
project's run. Those cards must say cached, with the run they came from, never "not run"; the
trainer says why it ran; "what will run" previews the next run with the param that changed.
The tests share one page (a Chinese browser) and run in order.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from e2e_helpers import node, select_node, wait_validated

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

REPO = Path(__file__).resolve().parents[2]
OFFLINE = REPO / "templates" / "model_optimization_finetuning_offline.json"
UPSTREAM = ("input", "backbone", "flatten", "dense", "output", "dataset", "format", "optimizer")
made: dict[str, object] = {}


def small_graph(pets: Path, epochs: int) -> dict:
    graph = copy.deepcopy(json.loads(OFFLINE.read_text(encoding="utf-8")))
    params = {"dataset": {"root": str(pets)}, "input": {"height": 64, "width": 64},
              "format": {"height": 64, "width": 64}, "train": {"epochs": epochs, "batch_size": 4}}
    for n in graph["nodes"]:
        n["params"].update(params.get(n["id"], {}))
    return graph


def wait_status(page, *statuses, timeout=120_000):
    page.wait_for_function("(s) => s.includes(document.querySelector('[data-testid=run-status]')?.dataset.status)",
                           arg=list(statuses), timeout=timeout)


def states(page, ids):
    return {i: node(page, i).get_attribute("data-state") for i in ids}


def test_a_second_project_shows_what_the_first_made_as_cached(page, shot, data_root):
    # the first project trains, through the API (as another tab or a script would)
    first = page.request.post(page.base_url + "/api/projects",
                              data={"name": "原因 A", "graph": small_graph(data_root / "pets", 2)}).json()
    run = page.request.post(page.base_url + f"/api/projects/{first['id']}/runs",
                            data={"targets": ["train"], "mode": "to"}).json()
    made["first_run"] = run["id"]

    # the second project, from the same template: its trainer trains for 3 epochs
    second = page.request.post(page.base_url + "/api/projects",
                               data={"name": "原因 B", "graph": small_graph(data_root / "pets", 3)}).json()
    made["second"] = second["id"]
    page.goto(page.base_url + f"/#/project/{second['id']}")
    page.wait_for_selector('[data-testid="node-card"][data-node="train"]')
    for _ in range(240):   # the first project's run ends
        if page.request.get(page.base_url + f"/api/runs/{run['id']}").json()["status"] not in ("queued", "running"):
            break
        page.wait_for_timeout(500)
    assert page.request.get(page.base_url + f"/api/runs/{run['id']}").json()["status"] == "finished"
    wait_validated(page)

    select_node(page, "train")
    page.get_by_test_id("run-to").click()
    page.wait_for_function("() => document.querySelector('[data-node=train]')?.dataset.state === 'running'",
                           timeout=90_000)
    during = states(page, UPSTREAM)
    assert all(s == "cached" for s in during.values()), during   # never "not run" beside a running trainer
    wait_status(page, "finished")
    after = states(page, UPSTREAM)
    assert all(s == "cached" for s in after.values()), after
    assert node(page, "train").get_attribute("data-state") == "done"

    # each says why: the upstream cards came from the first project's run, the trainer is new here
    dense_why = node(page, "dense").get_by_test_id("node-why")
    assert dense_why.get_attribute("data-reason") == "cached"
    assert f"来自运行 {made['first_run'][:8]}" in dense_why.inner_text()   # a card names the run by a short id
    # "new" is every card's reason after a first run: the card shows its params, the why tab the reason
    assert node(page, "train").get_by_test_id("node-why").count() == 0
    assert node(page, "train").locator(".node-params").inner_text().strip()
    page.get_by_test_id("tab-why").click()
    rows = page.get_by_test_id("why-row")
    assert page.locator('[data-testid="why-row"][data-node="train"]').get_attribute("data-reason") == "new"
    assert rows.count() >= len(UPSTREAM) + 1
    assert f"来自运行 {made['first_run']}" in page.locator('[data-testid="why-row"][data-node="dense"]').inner_text()
    shot(page, "why-01-second-project-zh")


def test_a_fully_cached_run_keeps_the_upstream_cached(page, shot):
    select_node(page, "train")
    page.get_by_test_id("run-to").click()
    page.wait_for_function("() => document.querySelector('[data-testid=run-status]')?.dataset.status === 'finished'"
                           " && document.querySelector('[data-testid=run-status]').textContent.includes('缓存')",
                           timeout=60_000)
    after = states(page, (*UPSTREAM, "train"))
    assert all(s == "cached" for s in after.values()), after
    assert node(page, "train").get_by_test_id("node-why").get_attribute("data-reason") == "cached"


def test_what_will_run_names_the_param_that_changed(page, shot):
    select_node(page, "train")
    page.get_by_test_id("param-epochs").fill("4")
    wait_validated(page)
    select_node(page, "train")
    page.get_by_test_id("preview-run").click()
    page.get_by_test_id("why-preview").wait_for()
    train = page.locator('[data-testid="why-preview"] [data-testid="why-row"][data-node="train"]')
    assert train.get_attribute("data-reason") == "changed"
    assert "3 → 4" in train.inner_text() and "将运行" in train.inner_text()
    assert page.locator('[data-testid="why-preview"] [data-testid="why-row"][data-node="dataset"]').count() == 1
    assert node(page, "train").get_attribute("data-state") == "stale"   # nothing ran
    shot(page, "why-02-preview-zh")


def test_in_english(page, shot):
    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=tab-why]')?.textContent.includes('Why it ran')")
    train = page.locator('[data-testid="why-preview"] [data-testid="why-row"][data-node="train"]')
    assert "will run" in train.inner_text() and "3 → 4" in train.inner_text()
    shot(page, "why-03-preview-en")
    page.get_by_test_id("why-preview-close").click()
    page.get_by_test_id("why-run").wait_for()
    assert "from run" in page.locator('[data-testid="why-row"][data-node="dense"]').inner_text()
    shot(page, "why-04-run-en")
    page.get_by_test_id("lang-switch").click()   # back to Chinese for whoever follows
    assert not page.errors, page.errors

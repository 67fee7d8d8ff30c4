"""What it will cost (issue 16): while editing, the cards show each model's weights and FLOPs,
the inspector every figure; a trainer's time per epoch is an estimate from a default figure
until the worker has trained, then from its measured speed. In Chinese and English.
The tests share one page (a Chinese browser) and run in order."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from e2e_helpers import node, select_node, wait_validated

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

REPO = Path(__file__).resolve().parents[2]
OFFLINE = REPO / "templates" / "model_optimization_finetuning_offline.json"
made: dict[str, object] = {}


def small_graph(pets: Path) -> dict:
    graph = copy.deepcopy(json.loads(OFFLINE.read_text(encoding="utf-8")))
    params = {"dataset": {"root": str(pets)}, "input": {"height": 64, "width": 64},
              "format": {"height": 64, "width": 64}, "train": {"epochs": 3, "batch_size": 4}}
    for n in graph["nodes"]:
        n["params"].update(params.get(n["id"], {}))
    return graph


def test_cards_and_inspector_show_the_cost_before_any_run(page, shot, data_root):
    project = page.request.post(page.base_url + "/api/projects",
                                data={"name": "开销", "graph": small_graph(data_root / "pets")}).json()
    made["project"] = project["id"]
    page.goto(page.base_url + f"/#/project/{project['id']}")
    page.wait_for_selector('[data-testid="node-card"][data-node="train"]')
    wait_validated(page)
    node(page, "backbone").get_by_test_id("node-cost").wait_for()
    # EfficientNet-Lite0: 3.37 M weights; at 64 px 2x2x1280 after it
    assert node(page, "backbone").get_by_test_id("node-cost").inner_text().startswith("3.37M 参数")
    assert "参数" in node(page, "output").get_by_test_id("node-cost").inner_text()
    select_node(page, "train")
    section = page.get_by_test_id("inspector-cost")
    assert "开销估算" in section.inner_text()
    assert "数据集运行后可估算" in page.get_by_test_id("cost-epoch").inner_text()   # no image counts yet
    assert "每张图像 20 KB（flatten 之后）" in page.get_by_test_id("cost-cache").inner_text()
    section.scroll_into_view_if_needed()
    shot(page, "cost-01-before-run-zh")


def test_after_a_run_the_time_is_estimated_from_the_measured_speed(page, shot):
    run = page.request.post(page.base_url + f"/api/projects/{made['project']}/runs",
                            data={"targets": ["train"], "mode": "to"}).json()
    for _ in range(480):
        if page.request.get(page.base_url + f"/api/runs/{run['id']}").json()["status"] not in ("queued", "running"):
            break
        page.wait_for_timeout(500)
    assert page.request.get(page.base_url + f"/api/runs/{run['id']}").json()["status"] == "finished"
    page.reload()
    page.wait_for_selector('[data-testid="node-card"][data-node="train"]')
    wait_validated(page)
    page.wait_for_function("() => document.querySelector('[data-node=train] [data-testid=node-cost]')"
                           "?.textContent.includes('/轮')")
    select_node(page, "train")
    epoch = page.get_by_test_id("cost-epoch").inner_text()
    assert "约" in epoch and "实测的速度（本机 CPU" in epoch, epoch
    assert "份特征 × 每份 20 KB" in page.get_by_test_id("cost-cache").inner_text()
    page.get_by_test_id("inspector-cost").scroll_into_view_if_needed()
    shot(page, "cost-02-measured-zh")


def test_in_english(page, shot):
    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=inspector-cost]')"
                           "?.textContent.includes('What it will cost')")
    assert "estimate from this worker's measured speed (this machine's CPU" in page.get_by_test_id("cost-epoch").inner_text()
    assert "trainable" in page.get_by_test_id("cost-params").inner_text()
    assert node(page, "backbone").get_by_test_id("node-cost").inner_text().startswith("3.37M weights")
    select_node(page, "dense")
    assert "batch of 4 (the batch size of train)" in page.get_by_test_id("cost-activations").inner_text()
    page.get_by_test_id("inspector-cost").scroll_into_view_if_needed()
    shot(page, "cost-03-en")
    page.get_by_test_id("lang-switch").click()   # leave the page Chinese for the next module's expectations

"""The run panel after the template with fixed augmentation variants (issue 15): both phases'
curves with the variants noted and an early stop marked, the evaluation, and the log lines that
say what the variants cost, in Chinese and in English.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from e2e_helpers import select_node, wait_validated

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

REPO = Path(__file__).resolve().parents[2]
OFFLINE = REPO / "templates" / "model_optimization_finetuning_offline.json"


def small_graph(pets: Path) -> dict:
    """The offline template at 48 px on the test photos, with flip-and-crop variants; the first
    trainer stops early (min_delta 1: no epoch after the first improves val_loss that much)."""
    graph = copy.deepcopy(json.loads(OFFLINE.read_text(encoding="utf-8")))
    params = {"dataset": {"root": str(pets)}, "input": {"height": 48, "width": 48},
              "format": {"height": 48, "width": 48, "augmentation": "fixed_flip_crops"},
              "train": {"epochs": 4, "batch_size": 4, "early_stopping_patience": 1, "min_delta": 1.0},
              "train_finetuned": {"epochs": 2, "batch_size": 4}}
    for n in graph["nodes"]:
        n["params"].update(params.get(n["id"], {}))
    return graph


def test_both_phases_with_the_variants_noted_and_the_early_stop_marked(page, shot, data_root):
    created = page.request.post(page.base_url + "/api/projects",
                                data={"name": "增强 A", "graph": small_graph(data_root / "pets")})
    assert created.ok, created.text()
    page.goto(page.base_url + f"/#/project/{created.json()['id']}")
    page.wait_for_selector('[data-testid="node-card"][data-node="evaluate"]')
    wait_validated(page)
    select_node(page, "evaluate")
    page.get_by_test_id("run-to").click()
    page.wait_for_function("() => ['finished', 'failed', 'cancelled'].includes("
                           "document.querySelector('[data-testid=run-status]')?.dataset.status)", timeout=600_000)
    run = page.request.get(page.base_url + "/api/runs").json()[0]
    failures = [e for e in page.request.get(page.base_url + f"/api/runs/{run['id']}/events").json()
                if e["type"] in ("node.failed", "run.failed")]
    assert run["status"] == "finished", failures

    page.get_by_test_id("tab-curves").click()
    cards = page.get_by_test_id("trainer-card")
    assert cards.count() == 2
    train = page.locator('[data-testid="trainer-card"][data-node="train"]')
    assert train.get_by_test_id("variants-chip").get_attribute("data-variants") == "4"
    assert "4 个固定变体" in train.get_by_test_id("variants-chip").inner_text()
    stopped = train.get_by_test_id("stopped-chip")
    assert stopped.get_attribute("data-epoch") == "2" and "第 2 轮后提前停止" in stopped.inner_text()
    assert page.get_by_test_id("chart-acc-train").get_attribute("data-stop-marker") == "2"
    tuned = page.locator('[data-testid="trainer-card"][data-node="train_finetuned"]')
    assert tuned.get_by_test_id("stopped-chip").count() == 0   # it ran both its epochs
    assert tuned.get_by_test_id("variants-chip").count() == 1  # the same variants, reused
    shot(page, "augment-01-zh-curves")

    page.get_by_test_id("tab-log").click()
    log = page.get_by_test_id("log").inner_text()
    assert "固定数据增强：" in log and "原图、水平翻转、中心放大、中心放大并水平翻转" in log, log
    assert "提前停止" in log and "zoom_centre" not in log
    shot(page, "augment-02-zh-log")

    page.get_by_test_id("tab-eval").click()
    page.get_by_test_id("evaluation").wait_for()
    shot(page, "augment-03-zh-evaluation")

    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=run-all]')?.textContent.includes('Run all')")
    page.get_by_test_id("tab-curves").click()
    assert "4 fixed variants" in train.get_by_test_id("variants-chip").inner_text()
    assert "stopped early after epoch 2" in train.get_by_test_id("stopped-chip").inner_text()
    shot(page, "augment-04-en-curves")
    page.get_by_test_id("tab-log").click()
    log = page.get_by_test_id("log").inner_text()
    assert "fixed augmentation: 4 variants" in log and "feature pass" in log, log
    shot(page, "augment-05-en-log")
    page.get_by_test_id("lang-switch").click()   # leave the page Chinese
    assert not page.errors, page.errors

"""Comparing runs as a user meets it: two real runs of one project (the second with more epochs and
another learning rate), the run table with their status, version, duration and best numbers, both
ticked to overlay their validation curves and list what differs, in Chinese and in English.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from e2e_helpers import run_and_wait

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

OFFLINE = Path(__file__).resolve().parents[2] / "templates" / "model_optimization_finetuning_offline.json"


def tiny_graph(pets: Path, epochs: int, learning_rate: float) -> dict:
    """The offline template without its backbone and fine-tuning: a few seconds a run."""
    g = copy.deepcopy(json.loads(OFFLINE.read_text(encoding="utf-8")))
    drop = {"backbone", "finetune", "optimizer_finetune", "train_finetuned"}
    g["nodes"] = [n for n in g["nodes"] if n["id"] not in drop]
    g["edges"] = [e for e in g["edges"] if e["source"] not in drop and e["target"] not in drop] + [
        {"id": "input.output->flatten.input", "source": "input", "sourceHandle": "output", "target": "flatten",
         "targetHandle": "input"},
        {"id": "train.model->evaluate.model", "source": "train", "sourceHandle": "model", "target": "evaluate",
         "targetHandle": "model"}]
    params = {"dataset": {"root": str(pets)}, "input": {"height": 32, "width": 32},
              "format": {"height": 32, "width": 32}, "train": {"epochs": epochs, "batch_size": 4},
              "dense": {"units": 8}, "optimizer": {"learning_rate": learning_rate}}
    for n in g["nodes"]:
        n["params"].update(params.get(n["id"], {}))
    return g


def test_run_table_and_overlay_in_both_languages(page, data_root, shot):
    pets = data_root / "pets"
    created = page.request.post(page.base_url + "/api/projects",
                                data={"name": "compare", "graph": tiny_graph(pets, 3, 1e-3)})
    assert created.ok, created.text()
    pid = created.json()["id"]
    first = run_and_wait(page, pid, ["evaluate"])
    saved = page.request.put(page.base_url + f"/api/projects/{pid}/graph", data={"graph": tiny_graph(pets, 5, 3e-3)})
    assert saved.ok, saved.text()
    second = run_and_wait(page, pid, ["evaluate"])

    page.goto(page.base_url + f"/#/project/{pid}")
    page.wait_for_selector('[data-testid="node-card"][data-node="train"]')
    page.get_by_test_id("runs-compare-open").click()
    rows = page.get_by_test_id("run-row")
    rows.nth(1).wait_for()
    assert [rows.nth(i).get_attribute("data-run") for i in range(2)] == [second, first]
    table = page.get_by_test_id("run-table")
    assert "已完成" in table.inner_text() and "v2" in table.inner_text() and "v1" in table.inner_text()
    best = [page.get_by_test_id("best-val-accuracy").nth(i).inner_text() for i in range(2)]
    assert all("@" in b for b in best), best   # each run's best epoch with its validation accuracy
    shot(page, "runs_compare_table_zh")

    rows.nth(1).click()   # the older run first: it is the baseline
    rows.nth(0).click()
    chart = page.get_by_test_id("compare-chart")
    chart.wait_for()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=compare-chart]')?.dataset.points) === 8")
    changes = page.locator(f'[data-testid="compare-run-changes"][data-run="{second}"]')
    changes.locator('[data-testid="version-change"]').nth(1).wait_for()
    text = changes.inner_text()
    assert "0.001" in text and "0.003" in text and "3" in text and "5" in text, text
    assert "基准" in page.get_by_test_id("compare-changes").inner_text()
    page.get_by_test_id("compare-metric").select_option("val_loss")   # tiny data: accuracy is 1.0 throughout
    shot(page, "runs_compare_overlay_zh")

    page.get_by_test_id("runs-compare").locator(".modal-head button").click()
    page.get_by_test_id("lang-switch").click()
    page.get_by_test_id("runs-compare-open").click()
    rows.nth(1).wait_for()
    assert "Finished" in page.get_by_test_id("run-table").inner_text()
    shot(page, "runs_compare_table_en")
    rows.nth(1).click()
    rows.nth(0).click()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=compare-chart]')?.dataset.points) === 8")
    page.get_by_test_id("compare-metric").select_option("val_loss")
    changes.locator('[data-testid="version-change"]').nth(1).wait_for()
    assert "baseline" in page.get_by_test_id("compare-changes").inner_text()
    shot(page, "runs_compare_overlay_en")
    page.get_by_test_id("runs-compare").locator(".modal-head button").click()
    page.get_by_test_id("lang-switch").click()   # back to Chinese
    assert not page.errors, page.errors

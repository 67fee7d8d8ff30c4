"""The run panel after runs that end in different ways: a cancelled run's partial model offered
(named by run and epoch) and tried, the curve's best epoch as the trainer says it, an upload that
is no image, the nodes a cached run did not need, and the evaluation's sample photos in view.

The tests share one page (a Chinese browser) and run in order. The projects they make are
deleted at the end, so the other browser tests find the project list as they left it.
"""
from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest

from e2e_helpers import node, select_node, wait_validated

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

REPO = Path(__file__).resolve().parents[2]
OFFLINE = REPO / "templates" / "model_optimization_finetuning_offline.json"
UPSTREAM = ("input", "backbone", "flatten", "dense", "output", "dataset", "format", "optimizer")
made: dict[str, int] = {}   # project ids by name, for the tests that follow


# -- helpers ----------------------------------------------------------------------------------
def run_status(page):
    return page.get_by_test_id("run-status").get_attribute("data-status")


def wait_status(page, *statuses, timeout=90_000):
    page.wait_for_function("(s) => s.includes(document.querySelector('[data-testid=run-status]')?.dataset.status)",
                           arg=list(statuses), timeout=timeout)


def latest_run(page) -> dict:
    return page.request.get(page.base_url + "/api/runs").json()[0]


def api(page, path):
    answer = page.request.get(page.base_url + path)
    assert answer.ok, answer.text()
    return answer.json()


def small_graph(pets: Path, train_epochs: int) -> dict:
    """The offline template made small: the test photos at 64 px, the frozen backbone's features cached."""
    graph = copy.deepcopy(json.loads(OFFLINE.read_text(encoding="utf-8")))
    params = {"dataset": {"root": str(pets)}, "input": {"height": 64, "width": 64},
              "format": {"height": 64, "width": 64}, "train": {"epochs": train_epochs, "batch_size": 4},
              "train_finetuned": {"epochs": 2, "batch_size": 4}}
    for n in graph["nodes"]:
        n["params"].update(params.get(n["id"], {}))
    return graph


def open_project(page, name, graph):
    created = page.request.post(page.base_url + "/api/projects", data={"name": name, "graph": graph})
    assert created.ok, created.text()
    made[name] = created.json()["id"]
    page.goto(page.base_url + f"/#/project/{made[name]}")
    page.wait_for_selector('[data-testid="node-card"][data-node="train"]')
    wait_validated(page)
    assert page.get_by_test_id("issues-badge").get_attribute("data-count") == "0"


def run_to(page, node_id):
    select_node(page, node_id)
    page.get_by_test_id("run-to").click()


# -- the tests --------------------------------------------------------------------------------
def test_a_cancelled_run_offers_its_partial_model(page, shot, data_root):
    # Many epochs on cached features: each is quick, the run is cancelled after the first ones.
    open_project(page, "面板 A", small_graph(data_root / "pets", 1000))
    run_to(page, "train")
    page.wait_for_function("() => +(document.querySelector('[data-testid=chart-loss-train]')?.dataset.points || 0) >= 4",
                           timeout=90_000)   # two epochs of loss and val_loss
    page.get_by_test_id("cancel-run").click()
    wait_status(page, "cancelled")
    run = latest_run(page)
    assert run["status"] == "cancelled"
    assert node(page, "train").get_attribute("data-state") == "cancelled"

    # the server lists the model the trainer saved, with its run and epoch
    artifacts = api(page, f"/api/runs/{run['id']}/artifacts")
    assert [(a["node"], a["partial"]) for a in artifacts] == [("train", True)]
    epoch = artifacts[0]["epoch"]
    assert epoch >= 2

    # the curve's best epoch is the one the trainer reported with its last epoch
    events = api(page, f"/api/runs/{run['id']}/events")
    last = [e for e in events if e["type"] == "node.metrics"][-1]
    page.get_by_test_id("tab-curves").click()
    assert page.get_by_test_id("best-chip").get_attribute("data-epoch") == str(last["best_epoch"])

    # the Model tab offers it, naming the run, its time and the epoch of its weights
    page.get_by_test_id("tab-model").click()
    card = page.locator('[data-testid="model-card"][data-partial="true"]')
    card.wait_for()
    assert card.get_attribute("data-run") == run["id"] and card.get_attribute("data-epoch") == str(epoch)
    origin = card.get_by_test_id("model-origin").inner_text()
    assert f"运行 #{run['id']}" in origin and f"第 {epoch} 轮的权重" in origin
    assert any(ch.isdigit() for ch in origin.split("·")[1])   # the run's time
    assert "部分训练" in card.inner_text()

    # tried on a photo like any other model, and downloaded
    card.get_by_test_id("predict-file-train-partial").set_input_files(str(data_root / "pets" / "Cat" / "0.jpg"))
    prediction = card.get_by_test_id("prediction")
    prediction.wait_for(timeout=60_000)
    assert "cat" in prediction.inner_text().lower() or "dog" in prediction.inner_text().lower()
    page.wait_for_function("() => { const i = document.querySelector('[data-testid=predict-preview]');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    href = card.get_by_test_id("download-train-partial").get_attribute("href")
    assert href == f"/api/runs/{run['id']}/artifacts/train/model"
    model = page.request.get(page.base_url + href)
    assert model.ok and len(model.body()) > 1000
    shot(page, "run-panel-01-cancelled-partial-model")


def test_the_curve_shows_the_trainers_best_epoch(page, shot):
    select_node(page, "train")
    page.get_by_test_id("param-epochs").fill("3")
    wait_validated(page)
    run_to(page, "train")
    wait_status(page, "queued", "running")
    wait_status(page, "finished")
    run = latest_run(page)
    kept = api(page, f"/api/runs/{run['id']}/summary")["nodes"]["train"]["summary"]["model"]
    page.get_by_test_id("tab-curves").click()
    chip = page.get_by_test_id("best-chip")
    assert chip.get_attribute("data-epoch") == str(kept["best_epoch"])
    assert f"最佳轮次 {kept['best_epoch']}" in chip.inner_text()
    assert page.get_by_test_id("chart-acc-train").get_attribute("data-marker") == str(kept["best_epoch"])
    # the Model tab names the same epoch for the finished model, the partial one still offered beside it
    page.get_by_test_id("tab-model").click()
    finished = page.locator(f'[data-testid="model-card"][data-partial="false"][data-run="{run["id"]}"]')
    assert finished.get_attribute("data-epoch") == str(kept["best_epoch"])
    assert f"第 {kept['best_epoch']} 轮的权重（共训练 3 轮）" in finished.inner_text()
    assert page.locator('[data-testid="model-card"][data-partial="true"]').count() == 0   # a newer result replaced it
    page.get_by_test_id("tab-curves").click()
    shot(page, "run-panel-02-best-epoch")


def test_an_upload_that_is_no_image_says_so(page, shot, tmp_path):
    page.get_by_test_id("tab-model").click()
    notes = tmp_path / "笔记.txt"
    notes.write_text("这不是图片\n", encoding="utf-8")
    page.get_by_test_id("predict-file-train").set_input_files(str(notes))
    error = page.get_by_test_id("predict-error")
    error.wait_for(timeout=30_000)
    text = error.inner_text()
    assert "不是图片" in text and "笔记.txt" in text
    assert "BytesIO" not in text and "Error" not in text
    assert page.get_by_test_id("predict-preview").count() == 0
    broken = page.eval_on_selector_all("[data-testid=models] img", "els => els.filter((i) => !(i.complete && i.naturalWidth > 0)).length")
    assert broken == 0
    shot(page, "run-panel-03-not-an-image")


def test_nodes_a_cached_run_did_not_need_are_up_to_date(page, shot, data_root):
    # A second project with the same graph: its trainer's result is in the cache already.
    open_project(page, "面板 B", small_graph(data_root / "pets", 3))
    run_to(page, "train")
    page.wait_for_function("() => document.querySelector('[data-testid=run-status]')?.dataset.status === 'finished'"
                           " && document.querySelector('[data-testid=run-status]').textContent.includes('缓存')",
                           timeout=60_000)
    run = latest_run(page)
    summary = api(page, f"/api/runs/{run['id']}/summary")
    assert summary["nodes"]["train"]["state"] == "cached" and not summary["plan"]
    assert node(page, "train").get_attribute("data-state") == "cached"
    for node_id in UPSTREAM:   # not in the run, but covered by the stored trainer
        assert node(page, node_id).get_attribute("data-state") == "cached", node_id
        assert "未运行" not in node(page, node_id).inner_text()
    assert node(page, "evaluate").get_attribute("data-state") == "idle"   # nothing stored covers it
    shot(page, "run-panel-04-cached-run-upstream")


def test_the_sample_photos_fit_the_panel(page, shot):
    run_to(page, "evaluate")
    wait_status(page, "queued", "running")
    wait_status(page, "finished", timeout=180_000)
    page.get_by_test_id("tab-eval").click()
    samples = page.get_by_test_id("eval-sample")
    samples.first.wait_for()
    assert samples.count() == 8
    page.wait_for_function("() => { const imgs = [...document.querySelectorAll('[data-testid=eval-sample] img')];"
                           " return imgs.length === 8 && imgs.every((i) => i.complete && i.naturalWidth > 0); }",
                           timeout=30_000)
    time.sleep(0.3)   # the grid settles to its measured box
    # every photo in view: neither the gallery nor the panel scrolls, each tile inside the panel
    scroll = page.evaluate("""() => {
        const grid = document.querySelector('[data-testid=samples]');
        const body = document.querySelector('.run-panel-body');
        const panel = body.getBoundingClientRect();
        const tiles = [...document.querySelectorAll('[data-testid=eval-sample]')].map((e) => e.getBoundingClientRect());
        return { grid: grid.scrollHeight - grid.clientHeight, body: body.scrollHeight - body.clientHeight,
                 inside: tiles.every((r) => r.top >= panel.top - 1 && r.bottom <= panel.bottom + 1),
                 width: Math.min(...tiles.map((r) => r.width)), rows: new Set(tiles.map((r) => Math.round(r.top))).size };
    }""")
    assert scroll["grid"] <= 1 and scroll["body"] <= 1, scroll
    assert scroll["inside"] and scroll["width"] >= 80 and scroll["rows"] <= 2, scroll
    shot(page, "run-panel-05-sample-grid")
    assert not page.errors, page.errors


def test_in_english(page, shot):
    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=run-all]')?.textContent.includes('Run all')")
    page.get_by_test_id("tab-model").click()
    card = page.locator('[data-testid="model-card"]').first
    card.wait_for()
    assert "weights of epoch" in card.get_by_test_id("model-origin").inner_text()
    assert "Run #" in card.get_by_test_id("model-origin").inner_text()
    shot(page, "run-panel-06-model-tab-english")
    page.get_by_test_id("tab-eval").click()
    page.get_by_test_id("eval-sample").first.wait_for()
    shot(page, "run-panel-07-evaluation-english")
    page.get_by_test_id("lang-switch").click()   # back to Chinese, as the page began

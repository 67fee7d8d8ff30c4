"""The cache on the start page: after a real run to the trainer the section says how much the result
store holds and that one trained model is among it; "free up space" asks first, then removes every
result but the model, a toast says what it freed and the last cleanup is shown. Chinese first,
then English; screenshots of both.
"""
from __future__ import annotations

import re

import pytest

from tests.api.helpers import tiny_graph

from e2e_helpers import run_and_wait

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]


def results_shown(text: str) -> int:
    """The number of results the Chinese usage line names: "已用 1.2 MB，共 7 项结果 · ..."."""
    m = re.search(r"共 (\d+) 项结果", text)
    assert m, text
    return int(m.group(1))


def test_free_up_space_keeps_the_trained_model_in_both_languages(page, shot, data_root):
    created = page.request.post(page.base_url + "/api/projects",
                                data={"name": "缓存", "graph": tiny_graph(str(data_root / "pets"))})
    assert created.ok, created.text()
    pid = created.json()["id"]
    run_and_wait(page, pid, ["train"])
    entries = page.request.get(page.base_url + "/api/cache").json()["entries"]
    assert entries > 1

    page.goto(page.base_url + "/")
    section = page.get_by_test_id("cache-status")
    usage = page.get_by_test_id("cache-usage")
    usage.wait_for()
    text = usage.inner_text()
    assert results_shown(text) == entries and "已训练模型 1 个（" in text and "上限 20.0 GB" in text, text
    assert "磁盘剩余" in text, text
    assert page.get_by_test_id("cache-last").count() == 0   # the studio's budget removed nothing after the run
    page.wait_for_function("() => !document.querySelector('[data-testid=template-card] .preview-empty')")  # drawn
    section.scroll_into_view_if_needed()
    shot(page, "cache-status-zh")

    page.get_by_test_id("cache-free").click()
    assert "移除除已训练模型以外的所有缓存结果？" in section.inner_text()
    shot(page, "cache-free-confirm-zh")
    page.get_by_test_id("cache-free-confirm").click()
    toast = page.get_by_test_id("toast").filter(has_text=f"移除 {entries - 1} 项结果")
    toast.wait_for()
    assert toast.inner_text().startswith("已释放 "), toast.inner_text()
    page.wait_for_function("(n) => document.querySelector('[data-testid=cache-usage]')?.textContent.includes(`共 ${n} 项结果`)",
                           arg=1)
    assert "已训练模型 1 个（" in usage.inner_text()
    last = page.get_by_test_id("cache-last").inner_text()
    assert re.fullmatch(rf"上次清理 \d\d-\d\d \d\d:\d\d：移除 {entries - 1} 项结果（其中已训练模型 0 个），共 .+", last), last
    # the trained model is still there to download
    assert page.request.get(page.base_url + "/api/cache").json()["models"] == 1

    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=cache-usage]')?.textContent.includes('in 1 result ·')")
    text = usage.inner_text()
    assert "1 trained model (" in text and "limit 20.0 GB" in text and "free on disk" in text, text
    last = page.get_by_test_id("cache-last").inner_text()
    assert re.fullmatch(rf"Last cleanup \d\d-\d\d \d\d:\d\d: removed {entries - 1} results \(0 trained models\), .+", last), last
    assert section.locator("h2").inner_text() == "Cache"
    assert page.get_by_test_id("cache-free").inner_text() == "Free up space"
    section.scroll_into_view_if_needed()
    shot(page, "cache-status-en")
    page.get_by_test_id("lang-switch").click()   # leave the page Chinese, as the other modules expect
    assert not page.errors, page.errors

    # a budget that takes the model too: its card says the file is gone, in the person's words,
    # instead of offering a download that fails
    gone = page.request.post(page.base_url + "/api/cache/prune", data={"max_gb": 0.000001, "keep_recent_s": 0})
    assert gone.ok and gone.json()["removed_models"] == 1, gone.text()
    page.goto(page.base_url + f"/#/project/{pid}")
    page.get_by_test_id("tab-model").click()
    note = page.get_by_test_id("model-gone-train")
    note.wait_for(timeout=30_000)
    assert "已不在缓存中" in note.inner_text() and "重新运行该节点" in note.inner_text(), note.inner_text()
    assert page.get_by_test_id("download-train").count() == 0 and page.get_by_test_id("predict-file-train").count() == 0
    shot(page, "cache-model-gone-zh")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=model-gone-train]')?.textContent"
                           ".includes('no longer in the cache')")
    assert "run the node again" in note.inner_text()
    shot(page, "cache-model-gone-en")

"""Your own photos in the browser: a zip of three class folders is uploaded from the image-folder
dataset's form (its progress shown while it goes out), the node picks it, the graph with a
Dense(3, softmax) head validates, a hostile archive is refused in the person's language, an
uploaded dataset is picked from the list, and one is deleted after a confirmation. Chinese first,
then English; screenshots of both.
"""
from __future__ import annotations

import copy
import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from e2e_helpers import node, select_node

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

REPO = Path(__file__).resolve().parents[2]
OFFLINE = REPO / "templates" / "model_optimization_finetuning_offline.json"
CLASSES = ("daisy", "rose", "tulip")


def flowers_zip(per_class: int = 4, size: int = 160) -> bytes:
    """Noise photos (they hardly compress: the upload takes a moment on a throttled link)."""
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, name in enumerate(CLASSES):
            for i in range(per_class):
                arr = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
                arr[:, :, k] = 255
                out = io.BytesIO()
                Image.fromarray(arr).save(out, format="JPEG", quality=95)
                zf.writestr(f"flowers/{name}/{i}.jpg", out.getvalue())
    return buf.getvalue()


def slip_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a/1.jpg", b"x")
        zf.writestr("../escape.jpg", b"x")
    return buf.getvalue()


def image_folder_graph() -> dict:
    graph = copy.deepcopy(json.loads(OFFLINE.read_text(encoding="utf-8")))
    for n in graph["nodes"]:
        if n["id"] == "dataset":
            n["type"], n["params"] = "data.ImageFolder", {"root": "uploads/flowers"}
        elif n["id"] == "output":
            n["params"] = {"units": 3, "activation": "softmax"}
        elif n["type"] == "training.Trainer":
            n["params"]["loss"] = "auto"
    return graph


def wait_issues(page, count):
    page.wait_for_function("(n) => document.querySelector('[data-testid=issues-badge]')?.dataset.count === String(n)",
                           arg=count)
    time.sleep(0.4)  # validation is debounced: no answer still on its way


def upload(page, name: str, data: bytes) -> None:
    page.get_by_test_id("dataset-upload-input").set_input_files(
        {"name": name, "mimeType": "application/zip", "buffer": data})


def open_dataset_node(page, project_id: int) -> None:
    page.goto(page.base_url + f"/#/project/{project_id}")
    page.wait_for_selector('[data-testid="node-card"][data-node="dataset"]')
    select_node(page, "dataset")


def test_the_progress_shows_while_an_upload_goes_out_and_cancel_stops_it(page, shot, data_root):
    created = page.request.post(page.base_url + "/api/projects",
                                data={"name": "我的花卉照片", "graph": image_folder_graph()})
    assert created.ok, created.text()
    page.project_id = created.json()["id"]
    # a slow link, in a page of its own: Chromium keeps holding back request bodies in a page once
    # throttled, so the other tests use the main page, never throttled
    slow = page.context.new_page()
    slow.base_url = page.base_url
    open_dataset_node(slow, page.project_id)
    assert "图像文件夹数据集" in slow.get_by_test_id("inspector").inner_text()
    cdp = slow.context.new_cdp_session(slow)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 5, "downloadThroughput": -1,
                                                  "uploadThroughput": 64 * 1024})
    upload(slow, "flowers.zip", flowers_zip())
    slow.wait_for_function("() => Number(document.querySelector('[data-testid=dataset-progress]')?.dataset.pct) > 5")
    text = slow.get_by_test_id("dataset-progress").inner_text()
    assert "正在上传 flowers.zip：" in text and "%）" in text, text
    shot(slow, "70-zh-dataset-uploading")
    slow.get_by_test_id("dataset-upload-cancel").click()
    error = slow.get_by_test_id("dataset-upload-error")
    error.wait_for()
    assert error.get_attribute("data-code") == "upload_aborted" and "上传已取消" in error.inner_text()
    slow.close()
    # the server drops what it had received: nothing is listed, no staging folder stays
    deadline = time.time() + 20
    while time.time() < deadline and any((data_root / "uploads").iterdir()):
        time.sleep(0.2)
    assert not any((data_root / "uploads").iterdir())
    assert page.request.get(page.base_url + "/api/datasets").json() == []


def test_a_zip_uploads_and_the_node_picks_it(page, shot, data_root):
    open_dataset_node(page, page.project_id)
    wait_issues(page, 1)                                         # uploads/flowers is not there yet
    assert node(page, "dataset").get_by_test_id("node-issue").get_attribute("data-code") == "path_not_found"
    upload(page, "flowers.zip", flowers_zip())
    page.get_by_test_id("dataset-uploaded").wait_for(timeout=60_000)
    assert "已上传为 flowers：3 个类别，12 张图像" in page.get_by_test_id("dataset-uploaded").inner_text()
    assert page.get_by_test_id("param-root").input_value() == "uploads/flowers"
    assert (data_root / "uploads" / "flowers" / "rose" / "0.jpg").is_file()
    wait_issues(page, 0)                                         # found, and three classes fit Dense(3)
    page.get_by_test_id("dataset-classes").wait_for()
    assert "daisy 4 · rose 4 · tulip 4" in page.get_by_test_id("dataset-classes").inner_text()
    shot(page, "71-zh-dataset-uploaded")


def test_a_hostile_archive_is_refused_in_chinese(page, shot, data_root):
    upload(page, "evil.zip", slip_zip())
    error = page.get_by_test_id("dataset-upload-error")
    error.wait_for()
    assert error.get_attribute("data-code") == "archive_unsafe_path"
    assert "上传被拒绝：压缩包中有指向其文件夹之外的路径：../escape.jpg" in error.inner_text()
    assert not (data_root / "uploads" / "escape.jpg").exists() and not (data_root / "evil").exists()
    assert sorted(p.name for p in (data_root / "uploads").iterdir()) == ["flowers"]
    shot(page, "72-zh-dataset-refused")


def test_an_uploaded_dataset_is_picked_from_the_list_in_english(page, shot):
    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=dataset-upload]')?.textContent"
                           ".includes('Upload a zip or tar')")
    page.get_by_test_id("param-root").fill("uploads/elsewhere")
    wait_issues(page, 1)
    select = page.get_by_test_id("dataset-select")
    assert "flowers · 3 classes · 12 images" in select.inner_text()
    select.select_option("uploads/flowers")
    assert page.get_by_test_id("param-root").input_value() == "uploads/flowers"
    wait_issues(page, 0)
    assert "Classes: daisy 4 · rose 4 · tulip 4" in page.get_by_test_id("dataset-classes").inner_text()
    upload(page, "evil.zip", slip_zip())
    page.wait_for_function("() => document.querySelector('[data-testid=dataset-upload-error]')?.textContent"
                           ".includes('The upload was refused: the archive holds a path that leaves its folder')")
    shot(page, "73-en-dataset-picked")
    page.get_by_test_id("dataset-manage").locator("summary").click()
    assert page.get_by_test_id("dataset-delete").get_attribute("title") == "Delete flowers from the server"
    shot(page, "74-en-dataset-list")
    page.get_by_test_id("dataset-delete").click()
    assert "Delete flowers and its 12 images from the server?" in page.get_by_test_id("dataset-delete-confirm").inner_text()
    shot(page, "75-en-dataset-delete-confirm")
    page.get_by_test_id("lang-switch").click()   # leave the page Chinese, as the other modules expect
    assert not page.errors, page.errors


def test_an_uploaded_dataset_is_deleted_after_a_confirmation(page, shot, data_root):
    confirm = page.get_by_test_id("dataset-delete-confirm")
    assert "从服务器删除 flowers 及其 12 张图像？" in confirm.inner_text()   # still asking, now in Chinese
    shot(page, "76-zh-dataset-delete-confirm")
    confirm.get_by_role("button", name="取消").click()               # asked again: nothing is gone yet
    assert (data_root / "uploads" / "flowers").is_dir()
    shot(page, "77-zh-dataset-list")
    page.get_by_test_id("dataset-delete").click()
    confirm.get_by_test_id("dataset-delete-yes").click()
    page.get_by_test_id("dataset-select").wait_for(state="detached")   # no uploaded dataset is left to pick
    assert not (data_root / "uploads" / "flowers").exists()
    assert page.request.get(page.base_url + "/api/datasets").json() == []
    assert not page.errors, page.errors

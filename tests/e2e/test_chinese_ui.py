"""The Chinese interface, read as a new user reads it: no English besides names and values.

One short session in a zh-CN browser: the template gallery, the offline template opened, every
node's form (titles, descriptions, choices), a canvas control's tooltip, a parameter that fails
validation, a run to the first trainer (the node's progress, the curves, the log, the model), an
evaluation with the split control in view, a cancelled run's log line, and last the English UI.
At each step every visible text, tooltip, label and placeholder is collected and each Latin word
of three letters or more must be a proper name or the user's own data (see ``allowed``).
"""
from __future__ import annotations

import re
import time

import pytest

from e2e_helpers import node, select_node, wait_validated

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

OFFLINE = "model_optimization_finetuning_offline"

# Proper names, kept as they are in Chinese text; compared in lower case.
PROPER_NAMES = {
    "abacus",                                              # the product
    "vgg16", "efficientnet-lite0", "imagenet",             # backbones and their weights
    "rmsprop", "adam", "sgd", "nesterov",                  # optimizers
    "relu", "sigmoid", "softmax", "tanh",                  # activation functions (名称通用)
    "keras", "torchvision", "pypi", "petimages", "kaggle", "ray",  # libraries, sites, dataset layouts
    "rgb", "cpu", "gpu", "onnx",                           # abbreviations and a file format, used as they are
    "flops",                                               # floating-point operations: the abbreviation is the term
}
KEYS = {"ctrl", "shift", "del", "delete", "esc"}           # keyboard keys, as printed on them
FILE_TYPES = {"jpg", "png", "pt", "pth"}                       # file extensions in file name patterns (cat.N.jpg)
CLASSES = {"cat", "dog"}                                  # the dataset's class names (its folders: user data)

# What a page shows: visible text (innerText, split into lines), the tooltips, labels and
# placeholders of visible elements, and React Flow's screen-reader descriptions (hidden, read aloud).
COLLECT = """() => {
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const out = document.body.innerText.split('\\n').map((t) => ({ where: 'text', t }));
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
    if (!shown(el)) continue;
    for (const a of ['title', 'aria-label', 'placeholder']) {
      const v = el.getAttribute(a);
      if (v) out.push({ where: `${a} of <${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}">`, t: v });
    }
  }
  for (const el of document.querySelectorAll('[id^="react-flow__node-desc"], [id^="react-flow__edge-desc"]'))
    out.push({ where: 'screen reader', t: el.textContent });
  return out.filter((x) => x.t && x.t.trim());
}"""

TOKEN = re.compile(r"[A-Za-z0-9_.\-/:+~]+")
LATIN3 = re.compile(r"[A-Za-z]{3,}")


class Identifiers:
    """The user's data and the graph's identifiers the UI shows in code font: node ids and the
    values of the graph's params, the catalog's component ids, param and port names and backbone
    layer names (choices of the fine-tune layers), run ids, and paths."""

    def __init__(self):
        self.words: set[str] = set()

    def add_catalog(self, catalog: dict) -> None:
        for comp in catalog["components"]:
            self.words.add(comp["id"])
            self.words.update(comp["id"].split("."))
            self.words.update(p["name"] for p in comp["inputs"] + comp["outputs"])
            for name, prop in comp["params_schema"].get("properties", {}).items():
                self.words.add(name)
                items = prop.get("items") or next((a.get("items") for a in prop.get("anyOf", []) if "items" in a), None)
                if items and "enum" in items:
                    self.words.update(items["enum"])   # layer names: block7a, top, block5_conv1, ...

    def add_graph(self, graph: dict) -> None:
        self.words.update(n["id"] for n in graph["nodes"])
        # the values in the graph's params: the template's dataset folder, and what the user types
        self.words.update(v for n in graph["nodes"] for v in n.get("params", {}).values() if isinstance(v, str))

    def allowed(self, token: str) -> bool:
        token = token.strip(".:,-+")
        if not LATIN3.search(token):
            return True                                     # numbers, shapes (64x64x3), units (MB, px), 1e-05
        low = token.lower()
        if token in self.words or low in PROPER_NAMES | KEYS | CLASSES:
            return True
        if token.startswith(("/", "~")) or re.fullmatch(r"[0-9a-f]{8,}", token):
            return True                                     # an absolute path the user typed or a file saved; a run id
        # a compound: dense.units, Ctrl+C/V, cat.N.jpg/dog.N.jpg, Cat/: each word of it allowed
        parts = [p for p in re.split(r"[._/:+\-]", token) if LATIN3.search(p)]
        return all(p in self.words or p.lower() in PROPER_NAMES | KEYS | FILE_TYPES | CLASSES for p in parts)


IDS = Identifiers()


def english_left(page) -> list[str]:
    """Every text on the page holding a Latin word that is not allowed, with where it is."""
    bad = []
    for item in page.evaluate(COLLECT):
        words = [t for t in TOKEN.findall(item["t"]) if not IDS.allowed(t)]
        if words:
            bad.append(f"{item['where']}: {item['t'].strip()[:160]!r} ({', '.join(words)})")
    return sorted(set(bad))


def assert_chinese(page, step: str) -> None:
    bad = english_left(page)
    assert not bad, f"English in the Chinese UI ({step}):\n" + "\n".join(bad)


def wait_saved(page):
    page.wait_for_function("() => document.querySelector('[data-testid=save-state]')?.dataset.state === 'saved'")


def run_status(page, *statuses, timeout=180_000):
    page.wait_for_function("(s) => s.includes(document.querySelector('[data-testid=run-status]')?.dataset.status)",
                           arg=list(statuses), timeout=timeout)


def test_the_gallery_and_the_template_read_in_chinese(page, shot):
    IDS.add_catalog(page.request.get(page.base_url + "/api/components").json())
    page.goto(page.base_url + "/")
    page.wait_for_selector(f'[data-testid="template-card"][data-template="{OFFLINE}"] svg.preview', timeout=60_000)
    assert_chinese(page, "template gallery")
    page.locator(f'[data-testid="template-card"][data-template="{OFFLINE}"]').dblclick()
    page.wait_for_url("**/#/project/*")
    page.wait_for_function(
        "() => document.querySelector('[data-node=backbone] [data-testid=port-shape]')?.textContent === '5x5x1280'")
    project = page.evaluate("() => location.hash.split('/').pop()")
    IDS.add_graph(page.request.get(page.base_url + f"/api/projects/{project}").json()["graph"])
    assert "个节点" in page.get_by_test_id("inspector-panel").inner_text()  # "13 个节点 · 14 条连线 · 5 个分组"
    assert_chinese(page, "the template opened, nothing selected")


def test_every_node_form_reads_in_chinese(page):
    ids = page.eval_on_selector_all('[data-testid="node-card"]', "els => els.map((e) => e.dataset.node)")
    assert len(ids) == 13
    for node_id in ids:
        select_node(page, node_id)
        assert_chinese(page, f"the form of {node_id}")
    # The choices read as labels: the activation of the last layer, the formatting's resizing.
    select_node(page, "format")
    assert "保持比例" in page.get_by_test_id("param-resize").inner_text()
    select_node(page, "train")
    assert "二元交叉熵" in page.get_by_test_id("param-loss").inner_text()


def test_the_canvas_controls_have_chinese_tooltips(page, shot):
    zoom_in = page.locator(".react-flow__controls-zoomin")
    zoom_in.hover()
    assert zoom_in.get_attribute("title") == "放大" and zoom_in.get_attribute("aria-label") == "放大"
    assert page.locator(".react-flow__controls-zoomout").get_attribute("title") == "缩小"
    assert page.locator(".react-flow__controls-fitview").get_attribute("title") == "适应视图"
    assert page.locator(".react-flow__controls").get_attribute("aria-label") == "画布控件"
    assert_chinese(page, "hovering a canvas control")


def test_a_validation_error_reads_in_chinese(page, shot):
    select_node(page, "dense")
    page.get_by_test_id("param-units").fill("0")
    node(page, "dense").get_by_test_id("node-issue-badge").wait_for()
    page.get_by_test_id("issues-badge").click()
    row = page.get_by_test_id("issue-row").first
    row.wait_for()
    wait_validated(page)
    text = row.inner_text()
    assert "必须大于或等于 1" in text and "Input should" not in text, text   # pydantic's greater_than_equal, with ge
    assert "必须大于或等于 1" in page.get_by_test_id("inspector-issue").inner_text()
    shot(page, "30-zh-validation-error")
    assert_chinese(page, "a parameter out of its bounds")
    page.get_by_test_id("param-units").fill("256")
    node(page, "dense").get_by_test_id("node-issue-badge").wait_for(state="detached")


def test_a_run_to_the_first_trainer_reads_in_chinese(page, shot, data_root):
    select_node(page, "dataset")
    page.get_by_test_id("param-root").fill(str(data_root / "pets"))
    for node_id in ("input", "format"):
        select_node(page, node_id)
        page.get_by_test_id("param-height").fill("64")
        page.get_by_test_id("param-width").fill("64")
    select_node(page, "train")
    page.get_by_test_id("param-epochs").fill("6")
    page.get_by_test_id("param-batch_size").fill("4")
    page.get_by_test_id("param-feature_cache").click()   # through the backbone every epoch: progress to see
    wait_validated(page)
    assert page.get_by_test_id("issues-badge").get_attribute("data-count") == "0"
    wait_saved(page)
    page.get_by_test_id("tab-curves").click()
    page.get_by_test_id("run-to").click()
    # The card says what the trainer does from the event's fields: "第 2/6 轮 · 3/4 批".
    page.wait_for_function("() => /第 \\d\\/6 轮/.test(document.querySelector("
                           "'[data-node=train] [data-testid=node-phase]')?.textContent ?? '')", timeout=120_000)
    phase = node(page, "train").get_by_test_id("node-phase").inner_text()
    assert re.fullmatch(r"第 \d/6 轮( · \d/\d 批)?", phase), phase
    shot(page, "31-zh-run-progress")
    assert_chinese(page, "a trainer running")
    run_status(page, "finished")
    for tab in ("curves", "log", "eval", "model", "issues"):
        page.get_by_test_id(f"tab-{tab}").click()
        time.sleep(0.3)
        assert_chinese(page, f"the {tab} tab after the run")
        if tab == "log":
            log = page.get_by_test_id("log").inner_text()
            assert "运行完成" in log and "第 1 轮：损失" in log and "验证准确率" in log, log
            page.locator(".log-line").last.scroll_into_view_if_needed()   # the trainer's lines
            shot(page, "32-zh-log")
        if tab == "model":
            shot(page, "33-zh-model")
    select_node(page, "train")
    assert "验证准确率" in page.get_by_test_id("inspector").inner_text()   # the result's metrics, named
    assert_chinese(page, "the trained node's result")


def test_an_evaluation_with_its_split_control_reads_in_chinese(page, shot):
    select_node(page, "train_finetuned")
    page.get_by_test_id("param-epochs").fill("1")
    select_node(page, "evaluate")
    split = page.get_by_test_id("param-split")
    assert [b.inner_text() for b in split.get_by_role("radio").all()] == ["测试集", "验证集", "训练集"]
    split.locator('[data-value="validation"]').click()
    wait_validated(page)
    wait_saved(page)
    page.get_by_test_id("inspector-run-to").click()
    run_status(page, "queued", "running")
    run_status(page, "finished")
    page.get_by_test_id("tab-eval").click()
    page.get_by_test_id("confusion").wait_for()
    assert "验证集准确率" in page.get_by_test_id("evaluation").inner_text()
    shot(page, "34-zh-evaluation")
    assert_chinese(page, "the evaluation, its split control in view")
    page.get_by_test_id("tab-log").click()
    assert "验证集准确率" in page.get_by_test_id("log").inner_text()
    assert_chinese(page, "the evaluation's log")


def test_a_cancelled_run_says_so_once(page, shot):
    select_node(page, "optimizer")
    page.get_by_test_id("param-learning_rate").fill("0.0003")   # the trainer runs again
    wait_validated(page)
    wait_saved(page)
    select_node(page, "train")
    page.get_by_test_id("run-to").click()
    node(page, "train").get_by_test_id("node-progress").wait_for(timeout=90_000)
    page.get_by_test_id("cancel-run").click()
    run_status(page, "cancelled", timeout=60_000)
    page.get_by_test_id("tab-log").click()
    log = page.get_by_test_id("log").inner_text()
    assert "运行已取消（正在运行模型训练）" in log and "cancelled" not in log, log   # said once, naming the node
    assert "运行已取消" in page.get_by_test_id("run-error").inner_text()
    shot(page, "35-zh-cancelled")
    assert_chinese(page, "a cancelled run")


def test_the_english_ui_says_the_same_in_english(page, shot):
    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=run-all]')?.textContent.includes('Run all')")
    assert page.locator(".react-flow__controls-zoomin").get_attribute("title") == "Zoom in"
    log = page.get_by_test_id("log").inner_text()
    assert "run cancelled during" in log and "cancelled cancelled" not in log, log
    select_node(page, "evaluate")
    assert "Validation" in page.get_by_test_id("param-split").inner_text()
    shot(page, "36-en-cancelled-run")
    page.get_by_test_id("lang-switch").click()   # the page's context is gone after this module; leave it Chinese
    assert not page.errors, page.errors

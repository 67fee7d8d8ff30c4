"""Where things land on the canvas, as a new user meets it: cards dropped on a blank project,
automatic layout of separate chains, the default view of the template beside the minimap, the
run toolbar of a selected card, and the names of two projects made from one template.

The tests share one page and run in order. The projects they make are deleted at the end, so
the other browser tests find the project list as they left it.
"""
from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

TEMPLATE = "model_optimization_finetuning"
TEMPLATE_ZH = "模型优化与微调"


# -- helpers ----------------------------------------------------------------------------------
def card(page, node_id):
    return page.locator(f'[data-testid="node-card"][data-node="{node_id}"]')


def card_ids(page):
    return page.eval_on_selector_all('[data-testid="node-card"]', "els => els.map((e) => e.dataset.node)")


def boxes(page, selector):
    """Every element's box (x, y, width, height) in page pixels."""
    return page.eval_on_selector_all(selector, "els => els.map((e) => { const r = e.getBoundingClientRect();"
                                               " return {x: r.x, y: r.y, width: r.width, height: r.height}; })")


def card_boxes(page):
    return page.evaluate("() => Object.fromEntries([...document.querySelectorAll('[data-testid=node-card]')]"
                         ".map((e) => { const r = e.getBoundingClientRect();"
                         " return [e.dataset.node, {x: r.x, y: r.y, width: r.width, height: r.height}]; }))")


def overlap(a, b):
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def union(bs):
    x0, y0 = min(b["x"] for b in bs), min(b["y"] for b in bs)
    x1, y1 = max(b["x"] + b["width"] for b in bs), max(b["y"] + b["height"] for b in bs)
    return {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}


def zoom(page):
    """React Flow's zoom, from its viewport transform."""
    return page.evaluate("() => new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport'))"
                         ".transform).a")


def settled(page):
    """Wait until the viewport transform stops changing (a fit animates for 300 ms)."""
    last = None
    for _ in range(40):
        now = page.evaluate("() => getComputedStyle(document.querySelector('.react-flow__viewport')).transform")
        if now == last:
            return
        last = now
        time.sleep(0.1)


def open_template(page):
    page.goto(page.base_url + "/")
    page.locator(f'[data-testid="template-card"][data-template="{TEMPLATE}"]').dblclick()
    page.wait_for_url("**/#/project/*")
    page.wait_for_selector('[data-testid="node-card"][data-node="evaluate"]')
    page.wait_for_function("() => document.querySelectorAll('[data-testid=node-card]').length === 13")
    settled(page)


# -- dropping cards on a blank project --------------------------------------------------------
def drop(page, component, x, y):
    """Drag a palette item onto the canvas at (x, y), relative to the canvas; returns the new
    card's id and the drop point in page pixels."""
    before = set(card_ids(page))
    canvas = page.get_by_test_id("canvas")
    box = canvas.bounding_box()
    page.locator(f'[data-testid="palette-item"][data-component="{component}"]').drag_to(
        canvas, target_position={"x": x, "y": y})
    page.wait_for_function(f"() => document.querySelectorAll('[data-testid=node-card]').length === {len(before) + 1}")
    (new,) = set(card_ids(page)) - before
    card(page, new).wait_for()
    return new, (box["x"] + x, box["y"] + y)


def test_cards_dropped_on_a_blank_project_land_where_dropped(page, shot):
    page.goto(page.base_url + "/")
    # the gallery first, so the blank card is not moved by the templates as it is clicked
    page.wait_for_selector(f'[data-template="{TEMPLATE}"] svg.preview')
    page.get_by_test_id("new-project").click()
    page.wait_for_url("**/#/project/*")
    canvas = page.get_by_test_id("canvas")
    canvas.wait_for()
    cbox = canvas.bounding_box()
    palette = page.get_by_test_id("palette").bounding_box()
    spots = [
        ("layers.Input", 0.55 * cbox["width"], 0.25 * cbox["height"]),
        ("layers.Flatten", 12, 0.45 * cbox["height"]),  # at the very left edge, next to the palette
        ("layers.Dense", 0.55 * cbox["width"], 0.6 * cbox["height"]),
    ]
    dropped = {}
    for component, x, y in spots:
        node_id, point = drop(page, component, x, y)
        time.sleep(0.3)  # a fit, were there one, would start now
        assert zoom(page) <= 1.0001, f"the view zoomed to {zoom(page)} after dropping {component}"
        dropped[node_id] = point
    all_boxes = card_boxes(page)
    for node_id, (px, py) in dropped.items():
        b = all_boxes[node_id]
        # The card holds the drop point (the one at the edge is moved right, to a small margin inside the canvas).
        assert b["x"] - 20 <= px <= b["x"] + b["width"] + 2 and b["y"] - 2 <= py <= b["y"] + b["height"] + 2, (node_id, b, px, py)
        # Fully inside the canvas, so never under the palette.
        assert b["x"] >= cbox["x"] and b["x"] + b["width"] <= cbox["x"] + cbox["width"], (node_id, b, cbox)
        assert b["y"] >= cbox["y"] and b["y"] + b["height"] <= cbox["y"] + cbox["height"], (node_id, b, cbox)
        assert not overlap(b, palette)
    ids = list(all_boxes)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            assert not overlap(all_boxes[a], all_boxes[b]), (a, b)

    # A fourth card dropped on top of one already there moves down or right, to the nearest free spot.
    target = all_boxes[ids[0]]
    x = target["x"] + target["width"] / 2 - cbox["x"] + 10
    y = target["y"] + 20 - cbox["y"]
    node_id, (px, py) = drop(page, "layers.Dropout", x, y)
    all_boxes = card_boxes(page)
    b = all_boxes[node_id]
    for other, ob in all_boxes.items():
        if other != node_id:
            assert not overlap(b, ob), (node_id, other)
    assert b["x"] >= target["x"] and b["y"] >= target["y"]
    assert abs(b["x"] + b["width"] / 2 - px) + abs(b["y"] - py) < 300, (b, px, py)
    assert zoom(page) <= 1.0001
    shot(page, "20-blank-project-drops")

    # Fit view with a few cards never zooms past 1:1 either.
    page.get_by_test_id("fit").click()
    settled(page)
    assert zoom(page) <= 1.0001


# -- automatic layout -------------------------------------------------------------------------
def dense(node_id, x, y):
    return {"id": node_id, "type": "layers.Dense", "params": {}, "position": {"x": x, "y": y}}


def wire(source, target):
    return {"id": f"{source}-{target}", "source": source, "sourceHandle": "output", "target": target,
            "targetHandle": "input"}


def test_automatic_layout_keeps_separate_chains_and_a_loose_node_apart(page, shot):
    first, second = ["a1", "a2", "a3"], ["b1", "b2", "b3"]
    # Interleaved on purpose: each chain crosses the other, the loose node sits in the middle.
    nodes = [dense("a1", 0, 0), dense("b1", 300, 0), dense("a2", 600, 0), dense("loose", 300, 150),
             dense("b2", 0, 300), dense("a3", 300, 300), dense("b3", 600, 300)]
    edges = [wire("a1", "a2"), wire("a2", "a3"), wire("b1", "b2"), wire("b2", "b3")]
    project = page.request.post(page.base_url + "/api/projects", data={
        "name": "two chains", "graph": {"nodes": nodes, "edges": edges, "groups": []}}).json()
    page.goto(page.base_url + f"/#/project/{project['id']}")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=node-card]').length === 7")
    page.get_by_test_id("layout").click()
    page.wait_for_function("() => { const a = document.querySelector('[data-node=a1]').getBoundingClientRect();"
                           " const b = document.querySelector('[data-node=a2]').getBoundingClientRect();"
                           " return Math.abs(a.y - b.y) < 2 && b.x > a.x; }")
    settled(page)
    b = card_boxes(page)
    a_box, b_box = union([b[i] for i in first]), union([b[i] for i in second])
    assert not overlap(a_box, b_box), (a_box, b_box)
    assert not overlap(b["loose"], a_box) and not overlap(b["loose"], b_box)
    # No card of one chain lies in the other's box, so no edge runs behind an unrelated card.
    for node_id in first:
        assert not overlap(b[node_id], b_box)
    for node_id in second:
        assert not overlap(b[node_id], a_box)
    # The loose node stands aside, right of both chains.
    assert b["loose"]["x"] >= max(a_box["x"] + a_box["width"], b_box["x"] + b_box["width"])
    assert zoom(page) <= 1.0001
    shot(page, "21-layout-two-chains-and-a-loose-node")


# -- the template's default view ---------------------------------------------------------------
def test_the_minimap_covers_no_card_at_the_default_view(page, shot):
    open_template(page)
    minimap = page.get_by_test_id("minimap").bounding_box()
    controls = page.locator(".react-flow__controls").bounding_box()
    cards = card_boxes(page)
    assert len(cards) == 13
    for node_id, b in cards.items():
        assert not overlap(b, minimap), (node_id, b, minimap)
        assert not overlap(b, controls), (node_id, b, controls)
    # Fit view (F) keeps that room too.
    page.get_by_test_id("fit").click()
    settled(page)
    minimap = page.get_by_test_id("minimap").bounding_box()
    for node_id, b in card_boxes(page).items():
        assert not overlap(b, minimap), (node_id, b, minimap)
    shot(page, "22-template-default-view")


def test_the_toolbar_of_a_selected_card_covers_no_label(page, shot):
    group_labels = boxes(page, '[data-testid="group-frame"] .group-label')
    assert len(group_labels) == 5
    for node_id in card_ids(page):
        card(page, node_id).locator(".node-title").click()
        page.wait_for_selector(f'[data-testid="inspector"][data-node="{node_id}"]')
        toolbar = page.locator(".react-flow__node-toolbar")
        toolbar.wait_for()
        assert toolbar.count() == 1
        tb = toolbar.bounding_box()
        for label in group_labels:
            assert not overlap(tb, label), (node_id, tb, label)
        for other, b in card_boxes(page).items():
            if other != node_id:  # nor any other card: their port labels lie on their edges
                assert not overlap(tb, b), (node_id, other, tb, b)
        own = boxes(page, f'[data-testid="node-card"][data-node="{node_id}"] .port-label')
        for label in own:
            assert not overlap(tb, label), (node_id, tb, label)
        if node_id == "train":
            shot(page, "23-toolbar-of-a-selected-card")
    page.keyboard.press("Escape")


# -- names ----------------------------------------------------------------------------------------
def test_two_projects_from_the_same_template_have_different_names(page, shot):
    first = page.get_by_test_id("project-name").inner_text()
    open_template(page)
    second = page.get_by_test_id("project-name").inner_text()
    assert first.startswith(TEMPLATE_ZH) and second.startswith(TEMPLATE_ZH)
    assert first != second
    page.get_by_test_id("back").click()
    names = page.locator('[data-testid="project-row"] .project-name')
    names.first.wait_for()
    listed = names.all_inner_texts()
    assert len([n for n in listed if n.startswith(TEMPLATE_ZH)]) == len({n for n in listed if n.startswith(TEMPLATE_ZH)}) >= 2
    assert f"{TEMPLATE_ZH} 2" in listed, listed
    shot(page, "24-two-projects-numbered")


def test_in_english_the_toolbar_and_the_minimap_still_cover_nothing(page, shot):
    page.locator('[data-testid="project-row"] .project-name', has_text=f"{TEMPLATE_ZH} 2").click()
    page.wait_for_selector('[data-testid="node-card"][data-node="evaluate"]')
    page.get_by_test_id("lang-switch").click()
    page.wait_for_function("() => document.querySelector('[data-testid=run-all]')?.textContent.includes('Run all')")
    settled(page)
    card(page, "finetune").locator(".node-title").click()
    page.wait_for_selector('[data-testid="inspector"][data-node="finetune"]')
    tb = page.locator(".react-flow__node-toolbar").bounding_box()
    minimap = page.get_by_test_id("minimap").bounding_box()
    for label in boxes(page, '[data-testid="group-frame"] .group-label'):
        assert not overlap(tb, label)
    for node_id, b in card_boxes(page).items():
        assert not overlap(b, minimap), node_id
        if node_id != "finetune":
            assert not overlap(tb, b), node_id
    shot(page, "25-english-toolbar-and-minimap")
    page.get_by_test_id("lang-switch").click()  # back to Chinese for whatever runs next on this page
    assert not page.errors, page.errors

"""A big graph zoomed out (issue 11): its cards and connections are drawn on one canvas.

Opened from a saved graph of 160 nodes (40 chains Input -> Flatten -> Dense -> Dense), the
editor fits it at a zoom below the low-detail threshold, so the overview layer draws every card
and React Flow's DOM cards are hidden. A click on a drawn card selects it (the inspector shows
it), a click between cards clears the selection, a double click zooms to the card and the DOM
cards come back; a right click opens the card's menu; fitting the graph again brings the
overview back, also in English, and a wheel zoom that stays below the threshold draws titles.

The tests share one page and run in order.
"""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("delete_the_projects_made_here")]

CHAINS = 40  # 160 nodes: above the overview's OVERVIEW_MIN_NODES (100), below BIG_GRAPH (300)
COLS = 10
STEP_X, STEP_Y, NODE_STEP_Y = 300, 640, 140
CARD_W = 240


def chain_graph() -> dict:
    nodes, edges = [], []
    for k in range(CHAINS):
        x, y = (k % COLS) * STEP_X, (k // COLS) * STEP_Y
        chain = [(f"input_{k}", "layers.Input", {"height": 28, "width": 28, "channels": 3}),
                 (f"flatten_{k}", "layers.Flatten", {}),
                 (f"dense_{k}", "layers.Dense", {"units": 64, "activation": "relu"}),
                 (f"output_{k}", "layers.Dense", {"units": 1, "activation": "sigmoid"})]
        for i, (node_id, component, params) in enumerate(chain):
            nodes.append({"id": node_id, "type": component, "params": params,
                          "position": {"x": x, "y": y + i * NODE_STEP_Y}})
        for (source, _, _), (target, _, _) in zip(chain, chain[1:]):
            edges.append({"source": source, "sourceHandle": "output", "target": target, "targetHandle": "input"})
    return {"nodes": nodes, "edges": edges, "groups": []}


def node_position(node_id: str) -> tuple[float, float]:
    kind, k = node_id.rsplit("_", 1)
    row = ["input", "flatten", "dense", "output"].index(kind)
    return (int(k) % COLS) * STEP_X, (int(k) // COLS) * STEP_Y + row * NODE_STEP_Y


def on_screen(page, flow_x: float, flow_y: float) -> tuple[float, float]:
    """A flow point in page pixels, from React Flow's viewport transform and the pane's box."""
    return tuple(page.evaluate(
        "([x, y]) => { const v = document.querySelector('.react-flow__viewport');"
        " const m = new DOMMatrix(getComputedStyle(v).transform);"
        " const r = document.querySelector('.react-flow').getBoundingClientRect();"
        " return [r.left + m.e + x * m.a, r.top + m.f + y * m.a]; }", [flow_x, flow_y]))


def card_centre(page, node_id: str) -> tuple[float, float]:
    x, y = node_position(node_id)
    return on_screen(page, x + CARD_W / 2, y + 30)


def zoom(page) -> float:
    return page.evaluate("() => new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport'))"
                         ".transform).a")


def overview_on(page) -> bool:
    return page.evaluate("() => document.querySelector('[data-testid=canvas]').classList.contains('overview')")


def drawn_cards(page) -> int:
    return int(page.get_by_test_id("overview-layer").get_attribute("data-cards") or 0)


def painted_alpha(page, x: float, y: float) -> int:
    """The overview canvas's alpha at a page point (0: nothing drawn there)."""
    return page.evaluate(
        "([x, y]) => { const c = document.querySelector('[data-testid=overview-layer]');"
        " const r = c.getBoundingClientRect(); const k = c.width / r.width;"
        " return c.getContext('2d').getImageData(Math.round((x - r.left) * k), Math.round((y - r.top) * k), 1, 1).data[3]; }",
        [x, y])


def visible_dom_cards(page) -> int:
    return page.evaluate("() => [...document.querySelectorAll('[data-testid=node-card]')]"
                         ".filter((e) => e.getBoundingClientRect().width > 0).length")


def settle(page):
    page.wait_for_timeout(500)  # a fit or a zoom animates for 300 ms


def test_a_big_graph_opens_as_an_overview(page, shot):
    r = page.request.post(page.base_url + "/api/projects", data={"name": "overview", "graph": chain_graph()})
    assert r.status == 201, r.text()
    page.goto(page.base_url + f"/#/project/{r.json()['id']}")
    page.wait_for_function("() => document.querySelector('[data-testid=canvas]')?.classList.contains('overview')"
                           " && Number(document.querySelector('[data-testid=overview-layer]').dataset.cards) > 0")
    settle(page)
    assert drawn_cards(page) == 4 * CHAINS  # the whole graph is in view
    assert visible_dom_cards(page) == 0
    assert page.locator(".react-flow__edges").evaluate("e => getComputedStyle(e).display") == "none"
    # Painted where a card is, not in the gap between two chains.
    assert painted_alpha(page, *card_centre(page, "dense_5")) == 255
    gap = node_position("dense_5")
    assert painted_alpha(page, *on_screen(page, gap[0] + CARD_W + 30, gap[1] + 30)) == 0
    shot(page, "overview-01-zoomed-out-zh")
    assert not page.errors, page.errors


def test_a_pan_moves_the_drawing_without_painting_it_again(page):
    paints = page.get_by_test_id("overview-layer").get_attribute("data-paints")
    origin = on_screen(page, 0, 0)
    x, y = card_centre(page, "dense_5")
    page.mouse.move(x, y)  # on a drawn card: in this mode a drag there pans, as on the pane
    page.mouse.down()
    page.mouse.move(x + 160, y + 70, steps=10)
    page.mouse.up()
    settle(page)
    moved = on_screen(page, 0, 0)
    assert abs(moved[0] - origin[0] - 160) < 2 and abs(moved[1] - origin[1] - 70) < 2  # the view moved
    assert painted_alpha(page, *card_centre(page, "dense_5")) == 255  # and the drawing with it
    assert page.get_by_test_id("overview-layer").get_attribute("data-paints") == paints
    assert page.locator('[data-testid="inspector"][data-node]').count() == 0  # a drag selects nothing


def test_a_click_on_a_drawn_card_selects_it(page, shot):
    page.mouse.click(*card_centre(page, "dense_5"))
    page.wait_for_selector('[data-testid="inspector"][data-node="dense_5"]')
    assert "全连接层" in page.get_by_test_id("inspector").inner_text()
    assert overview_on(page)
    shot(page, "overview-02-selected-zh")
    page.mouse.click(*card_centre(page, "input_7"), button="right")  # its menu, as on a DOM card
    page.get_by_test_id("context-menu").wait_for()
    page.wait_for_selector('[data-testid="inspector"][data-node="input_7"]')
    x, _ = node_position("dense_5")
    page.mouse.click(*on_screen(page, x + CARD_W / 2, STEP_Y - 55))  # below its chain: the pane
    page.wait_for_selector('[data-testid="inspector"][data-node="input_7"]', state="detached")
    assert page.get_by_test_id("context-menu").count() == 0


def test_a_double_click_zooms_to_the_card_and_brings_the_dom_cards_back(page, shot):
    page.mouse.dblclick(*card_centre(page, "flatten_12"))
    page.wait_for_function("() => !document.querySelector('[data-testid=canvas]').classList.contains('overview')")
    settle(page)
    card = page.locator('[data-testid="node-card"][data-node="flatten_12"]')
    card.wait_for()
    assert "selected" in card.get_attribute("class")
    assert page.get_by_test_id("overview-layer").evaluate("e => getComputedStyle(e).display") == "none"
    box = card.bounding_box()
    assert box["width"] > 200  # 1:1 again
    page.wait_for_selector('[data-testid="inspector"][data-node="flatten_12"]')
    shot(page, "overview-03-zoomed-in-zh")


def test_the_overview_in_english(page, shot):
    page.get_by_test_id("lang-switch").click()
    page.get_by_test_id("fit").click()
    page.wait_for_function("() => document.querySelector('[data-testid=canvas]').classList.contains('overview')")
    settle(page)
    assert drawn_cards(page) == 4 * CHAINS
    # The wheel zooms in a little, still below the threshold: painted again, now with titles.
    page.mouse.move(*card_centre(page, "dense_13"))
    page.mouse.wheel(0, -350)
    settle(page)
    assert 0.25 < zoom(page) < 0.45 and overview_on(page)
    # Painted again at the new zoom: the card is under its drawing, the gap beside it empty.
    assert painted_alpha(page, *card_centre(page, "output_13")) == 255
    x, y = node_position("output_13")
    assert painted_alpha(page, *on_screen(page, x + CARD_W + 30, y + 30)) == 0
    page.mouse.click(*card_centre(page, "output_13"))
    page.wait_for_selector('[data-testid="inspector"][data-node="output_13"]')
    assert "Dense" in page.get_by_test_id("inspector").inner_text()
    shot(page, "overview-04-zoomed-out-en")
    page.get_by_test_id("lang-switch").click()  # leave the page Chinese
    assert not page.errors, page.errors

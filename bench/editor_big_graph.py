"""The editor with a big graph, in headless Chromium: time to the first node, frames while panning.

A real studio (``python -m backend.cli serve`` on a free loopback port, a temporary home and
data root; the editor built first when ``frontend/dist`` is missing or older than its sources,
as the browser tests do) gets, through ``POST /api/projects``, a project whose saved graph is
N/4 chains of ``layers.Input -> layers.Flatten -> layers.Dense -> layers.Dense`` laid out in a
grid of columns. For each size and repeat, a fresh browser context (no HTTP cache) opens
``#/project/ID`` at 1600x1000 and measures:

- ``first_node_ms``: from navigation start (the page's ``performance.timeOrigin``) to the
  first animation frame in which a ``.react-flow__node`` is in the DOM and visible (React
  Flow hides a node, with an inline style, until it is measured) or, zoomed out, the overview
  layer has drawn cards, polled every frame by a script installed before the page's own;
- ``pan_fps``: after validation has answered and the page has been idle for a second,
  frames per second (a ``requestAnimationFrame`` counter in the page) while the pane is
  dragged left and right with real mouse events for ``--pan-seconds`` (3 s), starting on a
  point where the pane itself, not a node, is under the mouse.

Headless Chromium runs with ``--disable-gpu`` (software raster), as in the browser tests, so
painting weighs more than on a desktop with a GPU. Prints per size the medians over the
repeats, and ONE summary line on stdout (``{"bench": "editor_big_graph", ...}``), which is
also appended to ``--results`` (``bench/results/cpu-2core-quiet.jsonl``; ``--results ''``:
not appended). Targets (issue): first nodes < 2,000 ms and panning >= 50 fps at 2,000 nodes.

    .venv/bin/python bench/editor_big_graph.py [--nodes 500 2000] [--repeat 3] [--pan-seconds 3]
        [--results bench/results/cpu-2core-quiet.jsonl] [--screenshot DIR] [--lang zh|en]
        [--editor-dir DIR] [--keep]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import time
from pathlib import Path

import _common as c
from events_ws import Server

FRONTEND = c.REPO / "frontend"
EDITOR_SOURCES = ["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"]
CHROMIUM = os.environ.get("ABACUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1600, "height": 1000}
DEFAULT_RESULTS = c.REPO / "bench" / "results" / "cpu-2core-quiet.jsonl"
TARGETS = {"first_node_ms": "< 2000 at 2,000 nodes", "pan_fps": ">= 50 at 2,000 nodes"}

# Chains go down a column (ports are on the top and bottom of a card); columns fill a grid
# about as wide as it is tall, like a big graph someone laid out by hand.
NODE_STEP_Y = 140
CHAIN_STEP_X = 300
CHAIN_STEP_Y = 4 * NODE_STEP_Y + 80

# Installed before the page's scripts: records the first frame with a visible node, and
# counts frames between window.__frames.start() and window.__frames.stop().
PAGE_PROBE = """
(() => {
  window.__firstNodeMs = null;
  const watch = () => {
    // React Flow shows a node (inline visibility) once measured; reading the inline style
    // forces no style or layout work, so the probe does not slow what it measures. Zoomed out,
    // the overview layer draws the cards instead (its data-cards says how many it painted) and
    // the DOM cards are hidden by the canvas's `overview` class.
    const overview = document.querySelector('.canvas.overview');
    const drawn = overview && Number(document.querySelector('[data-testid=overview-layer]')?.dataset.cards) > 0;
    if (drawn || (!overview && document.querySelector('.react-flow__node:not([style*="visibility: hidden"])'))) {
      window.__firstNodeMs = performance.now();
      return;
    }
    requestAnimationFrame(watch);
  };
  requestAnimationFrame(watch);
  let count = 0, running = false, t0 = 0;
  const tick = () => { if (!running) return; count++; requestAnimationFrame(tick); };
  window.__frames = {
    start() { count = 0; running = true; t0 = performance.now(); requestAnimationFrame(tick); },
    stop() { running = false; return { frames: count, ms: performance.now() - t0 }; },
  };
})();
"""

# A point in the canvas where the pane is what a mouse press reaches (the gaps between chains).
FIND_PANE_POINT = """
() => {
  const box = document.querySelector('.react-flow').getBoundingClientRect();
  for (let y = box.top + 40; y < box.bottom - 40; y += 7)
    for (let x = box.left + 40; x < box.right - 360; x += 7) {
      const el = document.elementFromPoint(x, y);
      if (el && el.classList.contains('react-flow__pane')) return { x, y };
    }
  return null;
}
"""


def build_editor() -> None:
    """``npm run build`` when frontend/dist is missing or older than the editor's sources."""
    newest = 0.0
    for name in EDITOR_SOURCES:
        path = FRONTEND / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()] if path.exists() else []
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    dist_index = FRONTEND / "dist" / "index.html"
    if dist_index.exists() and dist_index.stat().st_mtime >= newest:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not installed and frontend/dist is missing or stale")
    c.log("building the editor (npm run build)")
    built = subprocess.run([npm, "run", "build"], cwd=FRONTEND, capture_output=True, text=True)
    if built.returncode != 0:
        raise SystemExit(f"npm run build failed:\n{(built.stdout + built.stderr)[-3000:]}")


def chain_graph(nodes: int) -> dict:
    """``nodes`` / 4 chains Input -> Flatten -> Dense(64, relu) -> Dense(1, sigmoid), valid as saved."""
    chains = max(1, nodes // 4)
    rows = max(1, round(math.sqrt(chains * CHAIN_STEP_X / CHAIN_STEP_Y)))
    cols = math.ceil(chains / rows)
    graph_nodes, edges = [], []
    for k in range(chains):
        x, y = (k % cols) * CHAIN_STEP_X, (k // cols) * CHAIN_STEP_Y
        chain = [
            (f"input_{k}", "layers.Input", {"height": 28, "width": 28, "channels": 3}),
            (f"flatten_{k}", "layers.Flatten", {}),
            (f"dense_{k}", "layers.Dense", {"units": 64, "activation": "relu"}),
            (f"output_{k}", "layers.Dense", {"units": 1, "activation": "sigmoid"}),
        ]
        for i, (node_id, component, params) in enumerate(chain):
            graph_nodes.append({"id": node_id, "type": component, "params": params,
                                "position": {"x": x, "y": y + i * NODE_STEP_Y}})
        for (source, _, _), (target, _, _) in zip(chain, chain[1:]):
            edges.append({"source": source, "sourceHandle": "output", "target": target, "targetHandle": "input"})
    return {"nodes": graph_nodes, "edges": edges, "groups": []}


def create_project(http, server: Server, nodes: int) -> int:
    r = http.post(f"{server.url}/api/projects", json={"name": f"big graph {nodes}", "graph": chain_graph(nodes)},
                  timeout=120)
    if r.status_code != 201:
        raise SystemExit(f"POST /api/projects: {r.status_code} {r.text[:500]}")
    return r.json()["id"]


def wait_validated(page) -> None:
    """Validation has answered (the badge no longer says it is validating) and the page is idle."""
    page.wait_for_function("() => { const b = document.querySelector('[data-testid=issues-badge]');"
                           " return b && !b.textContent.includes('…'); }", timeout=120_000)
    page.wait_for_timeout(1000)


def pan_fps(page, seconds: float) -> dict:
    """Frames per second while the pane is dragged left and right with real mouse events."""
    start = page.evaluate(FIND_PANE_POINT)
    if start is None:
        raise SystemExit("no empty pane point to drag in the canvas")
    x, y = start["x"], start["y"]
    page.evaluate("() => window.__frames.start()")
    deadline = time.monotonic() + seconds
    direction, strokes = 1, 0
    while time.monotonic() < deadline:
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + direction * 300, y + direction * 60, steps=20)
        page.mouse.up()
        x, y = x + direction * 300, y + direction * 60
        direction, strokes = -direction, strokes + 1
    result = page.evaluate("() => window.__frames.stop()")
    return {"fps": result["frames"] / (result["ms"] / 1000), "frames": result["frames"], "ms": result["ms"],
            "strokes": strokes}


def measure_once(browser, server: Server, project_id: int, seconds: float, lang: str,
                 screenshot: Path | None) -> dict:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN" if lang == "zh" else "en-US")
    context.set_default_timeout(120_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(PAGE_PROBE)
        page.goto(f"{server.url}/#/project/{project_id}")
        page.wait_for_function("() => window.__firstNodeMs !== null", timeout=120_000, polling=100)
        first_ms = page.evaluate("() => window.__firstNodeMs")
        wait_validated(page)
        rendered = page.evaluate("() => document.querySelectorAll('.react-flow__node').length")
        drawn = page.evaluate("() => document.querySelector('.canvas.overview') ?"
                              " Number(document.querySelector('[data-testid=overview-layer]').dataset.cards) : 0")
        panned = pan_fps(page, seconds)
        if screenshot is not None:
            page.wait_for_timeout(500)
            page.screenshot(path=str(screenshot))
        if errors:
            raise SystemExit(f"errors in the page: {errors[:3]}")
        return {"first_node_ms": first_ms, "pan_fps": panned["fps"], "rendered_nodes": rendered, "drawn_cards": drawn,
                "pan_frames": panned["frames"], "pan_strokes": panned["strokes"]}
    finally:
        context.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, nargs="+", default=[500, 2000], help="graph sizes (multiples of 4)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--pan-seconds", type=float, default=3.0)
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--results", default=str(DEFAULT_RESULTS), help="JSONL file the summary is appended to ('': none)")
    p.add_argument("--screenshot", type=Path, default=None, help="folder for a screenshot of each size after panning")
    p.add_argument("--editor-dir", type=Path, default=None,
                   help="serve this built editor instead of frontend/dist (e.g. another commit's, to compare)")
    p.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = p.parse_args()

    import httpx
    from playwright.sync_api import sync_playwright

    c.stop_on_sigterm()
    if args.editor_dir is None:
        build_editor()
    else:
        os.environ["ABACUS_FRONTEND_DIR"] = str(args.editor_dir.resolve())  # read by the server's settings
    load_before = c.loadavg()
    tmp = c.tmpdir("editor")
    (tmp / "data").mkdir()
    server = Server(tmp / "home", tmp / "data", coalesce=0.1, log_path=tmp / "server.log")
    sizes: dict[str, dict] = {}
    partial = None
    try:
        with httpx.Client(timeout=120) as http, sync_playwright() as pw:
            server.wait_ready(http)
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            projects = {n: create_project(http, server, n) for n in args.nodes}
            c.log(f"studio {server.url}, projects {projects}, load {load_before}; tmp {tmp}")
            for rep in range(args.repeat):
                for n in args.nodes:  # sizes interleaved, so a slow minute hits both
                    shot = None
                    if args.screenshot is not None and rep == args.repeat - 1:
                        args.screenshot.mkdir(parents=True, exist_ok=True)
                        shot = args.screenshot / f"editor-{n}-nodes-{args.lang}.png"
                    m = measure_once(browser, server, projects[n], args.pan_seconds, args.lang, shot)
                    c.log(f"{n} nodes, repeat {rep + 1}: first node {m['first_node_ms']:.0f} ms, "
                          f"panning {m['pan_fps']:.1f} fps ({m['rendered_nodes']} nodes in the DOM, "
                          f"{m['drawn_cards']} drawn by the overview layer)")
                    runs = sizes.setdefault(str(n), {"first_node_ms": [], "pan_fps": [], "rendered_nodes": [],
                                                      "drawn_cards": []})
                    for key in runs:
                        runs[key].append(round(m[key], 1))
            browser.close()
    except c.Interrupted as e:
        partial = str(e)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    result = {
        "medians": {n: {"first_node_ms": round(c.median(r["first_node_ms"])), "pan_fps": round(c.median(r["pan_fps"]), 1)}
                    for n, r in sizes.items() if r["pan_fps"]},
        "runs": sizes,
        "target": TARGETS,
        "settings": {"editor": str(args.editor_dir or "frontend/dist"), "repeat": args.repeat,
                     "pan_seconds": args.pan_seconds, "viewport": VIEWPORT, "lang": args.lang, "chromium": CHROMIUM_ARGS},
        "partial": partial,
        "machine": c.machine(),
        "load_before": load_before,
        "load_after": c.loadavg(),
    }
    for n, m in result["medians"].items():
        c.log(f"{n} nodes: first node {m['first_node_ms']} ms, panning {m['pan_fps']} fps (medians)")
    c.summary("editor_big_graph", result)
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(json.dumps({"bench": "editor_big_graph", **result}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

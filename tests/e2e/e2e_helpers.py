"""Helpers the browser tests share: find a node card, select it, wait for validation, run a
project through the API."""
from __future__ import annotations

import time


def node(page, node_id):
    return page.locator(f'[data-testid="node-card"][data-node="{node_id}"]')


def select_node(page, node_id):
    node(page, node_id).locator(".node-title").click()
    page.wait_for_selector(f'[data-testid="inspector"][data-node="{node_id}"]')


def wait_validated(page):
    page.wait_for_function("() => !document.querySelector('[data-testid=issues-badge]')?.textContent.includes('…')")
    time.sleep(0.4)  # validation is debounced


def run_and_wait(page, pid: int, targets: list[str], timeout: float = 120.0) -> str:
    """Run project ``pid`` to ``targets`` through the API and wait until the run has finished: its id."""
    started = page.request.post(page.base_url + f"/api/projects/{pid}/runs", data={"targets": targets, "mode": "to"})
    assert started.ok, started.text()
    run_id = started.json()["id"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = page.request.get(page.base_url + f"/api/runs/{run_id}").json()
        if run["status"] not in ("queued", "running"):
            assert run["status"] == "finished", run
            return run_id
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not end")

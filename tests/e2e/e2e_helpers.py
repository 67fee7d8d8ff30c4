"""Helpers the browser tests share: find a node card, select it, wait for validation."""
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

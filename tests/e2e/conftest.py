"""Browser tests: the real studio server (API, worker, database) and Debian's Chromium driven by Playwright.

The session builds the editor when frontend/dist is missing or older than its sources, starts
``abacus serve`` on a free port with a fresh home and a small image folder as its data root,
and launches /usr/bin/chromium. Screenshots of the main screens go to tests/e2e/screenshots/.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("ABACUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SOURCES = ["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"]


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in SOURCES:
        path = FRONTEND / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()] if path.exists() else []
        for f in files:
            newest = max(newest, f.stat().st_mtime)
    return newest


def _build_frontend() -> None:
    dist_index = FRONTEND / "dist" / "index.html"
    if dist_index.exists() and dist_index.stat().st_mtime >= _newest_source_mtime():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed and frontend/dist is missing or stale")
    lock = FRONTEND / "package-lock.json"
    installed = FRONTEND / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)


def make_pets(root: Path, per_class: int = 16, size: tuple[int, int] = (80, 64), seed: int = 0) -> Path:
    """Cat images reddish, dog images bluish, with noise: a tiny folder a model can learn from."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for folder, channel in (("Cat", 0), ("Dog", 2)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            arr = rng.integers(0, 110, size=(size[1], size[0], 3), dtype=np.uint8)
            arr[:, :, channel] = rng.integers(150, 256, size=(size[1], size[0]), dtype=np.uint8)
            Image.fromarray(arr).save(root / folder / f"{i}.jpg", quality=90)
    return root


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: browser tests against the real server (Chromium + Playwright)")


@pytest.fixture(scope="session")
def playwright_api():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    make_pets(root / "pets")
    return root


@pytest.fixture(scope="module")
def studio(playwright_api, data_root, tmp_path_factory):
    """A studio server on a free port for each test module (its own home, database and result
    store, so one module's cached results never decide what another sees); yields its base URL."""
    _build_frontend()
    home = tmp_path_factory.mktemp("home")
    script = Path(sys.executable).with_name("abacus")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "backend.cli"]
    cmd += ["serve", "--port", "0", "--home", str(home), "--data-root", str(data_root), "--log-level", "warning"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = open(home / "server.log", "w+")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    url = None
    deadline = time.time() + 90
    while time.time() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        m = re.search(r"(http://[\w.\[\]:-]+)", line)
        if m:
            url = m.group(1)
    if url is None:
        proc.kill()
        log.seek(0)
        raise RuntimeError(f"abacus serve did not start:\n{log.read()[-4000:]}")
    for _ in range(100):
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2):
                break
        except OSError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser(playwright_api):
    b = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture(scope="module")
def page(browser, studio):
    """One page per test module, in a Chinese browser (the editor's default language there)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.base_url = studio
    yield pg
    context.close()


@pytest.fixture(scope="session")
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take


@pytest.fixture(scope="module")
def delete_the_projects_made_here(page):
    """Projects a test module creates are deleted after it, so later modules see the list they expect."""
    before = {p["id"] for p in page.request.get(page.base_url + "/api/projects").json()}
    yield
    for p in page.request.get(page.base_url + "/api/projects").json():
        if p["id"] not in before:
            page.request.delete(page.base_url + f"/api/projects/{p['id']}")

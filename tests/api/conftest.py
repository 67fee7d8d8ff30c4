from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.settings import Settings

from .helpers import make_image_folder, tiny_graph, wait_for


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """A data root holding a tiny cats-vs-dogs folder at cv/."""
    root = tmp_path_factory.mktemp("data_root")
    make_image_folder(root / "cv")
    return root


def make_settings(home: Path, data_root: Path, **kw) -> Settings:
    kw.setdefault("frontend_dir", home / "no-frontend")  # independent of a built frontend/dist
    return Settings(home=home, data_roots=[data_root], progress_coalesce_s=0, **kw)


@pytest.fixture
def settings(tmp_path, data_root) -> Settings:
    return make_settings(tmp_path / "home", data_root)


@pytest.fixture
def client(settings):
    """The real app (worker and dispatcher included) on a fresh SQLite file."""
    from backend.api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory, data_root):
    """One app for tests that only read and write projects (no runs)."""
    from backend.api.app import create_app

    home = tmp_path_factory.mktemp("home")
    with TestClient(create_app(make_settings(home, data_root), start_worker=False)) as c:
        yield c


@pytest.fixture
def graph():
    return tiny_graph("cv")


def wait_run(client, run_id: str, timeout: float = 120.0) -> dict:
    def done():
        run = client.get(f"/api/runs/{run_id}").json()
        return run if run["status"] not in ("queued", "running") else None

    return wait_for(done, timeout, 0.1, f"run {run_id} to end")

"""docker-compose.yml: the deployment a team would use, checked by ``docker-compose config``
(Debian's docker-compose; no Docker daemon is needed or started)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed (apt-get install docker-compose)")


def config(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("RAY_AUTH_TOKEN", "ABACUS_TOKEN")}
    return subprocess.run([COMPOSE, "-f", str(REPO / "docker-compose.yml"), "config"], cwd=REPO,
                          env={**clean, **env}, capture_output=True, text=True, timeout=60)


def test_compose_file_is_valid_and_describes_the_cluster():
    done = config(RAY_AUTH_TOKEN="ray-secret", ABACUS_TOKEN="studio-secret")
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert set(services) == {"db", "ray-head", "gpu-worker", "studio"}
    for name in ("ray-head", "gpu-worker", "studio"):
        env = services[name]["environment"]
        assert env["RAY_AUTH_MODE"] == "token" and env["RAY_AUTH_TOKEN"] == "ray-secret", name
        assert "healthcheck" in services[name], name
    worker = services["gpu-worker"]
    assert "container_name" not in worker and "ports" not in worker   # --scale gpu-worker=N works
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and devices[0]["capabilities"] == ["gpu"]
    assert "ray-head:6379" in worker["command"]
    studio = services["studio"]
    command = studio["command"]
    assert command[command.index("--executor") + 1] == "ray"
    assert command[command.index("--ray-address") + 1] == "ray-head:6379"
    assert studio["environment"]["ABACUS_DB_URL"].startswith("postgresql+psycopg://")
    assert studio["environment"]["ABACUS_TOKEN"] == "studio-secret"
    def data_mount(service: dict) -> str:   # "SOURCE:/data:ro" -> "/data"
        return next(v.split(":")[1] for v in service["volumes"] if v.split(":")[1] == "/data")

    assert data_mount(studio) == data_mount(worker) == "/data"   # the workers read the studio's paths


def test_compose_refuses_to_run_without_the_cluster_token():
    done = config(ABACUS_TOKEN="studio-secret")
    assert done.returncode != 0
    assert "RAY_AUTH_TOKEN" in done.stderr

"""Shared fixtures: small image folders made on the spot, tiny graphs, an in-process runner."""
from __future__ import annotations

import copy
import json
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "cats_vs_dogs"


def make_image_folder(root: Path, per_class: int = 12, size: tuple[int, int] = (48, 40), corrupt: int = 0,
                      layout: str = "petimages", seed: int = 0) -> Path:
    """Cat images are reddish and dog images bluish, with noise: learnable in a few steps."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for label, (folder, channel) in enumerate((("Cat", 0), ("Dog", 2))):
        for i in range(per_class):
            arr = rng.integers(0, 120, size=(size[1], size[0], 3), dtype=np.uint8)
            arr[:, :, channel] = rng.integers(150, 256, size=(size[1], size[0]), dtype=np.uint8)
            if layout == "petimages":
                path = root / folder / f"{i}.jpg"
            else:
                path = root / f"{folder.lower()}.{i}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(path, quality=90)
        for j in range(corrupt):
            bad = root / folder / f"{1000 + j}.jpg" if layout == "petimages" else root / f"{folder.lower()}.{1000 + j}.jpg"
            bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    return root


@pytest.fixture
def image_folder(tmp_path) -> Path:
    return make_image_folder(tmp_path / "pets", per_class=12, corrupt=1)


def tiny_graph(root: Path, *, size: int = 32, epochs: int = 2, backbone: bool = False, cache: bool = True,
               augmentation: str = "none") -> dict:
    """Input -> [EfficientNet-Lite0] -> Flatten -> Dense -> Dense(1): the template's shape, in small."""
    nodes = [
        {"id": "input", "type": "layers.Input", "params": {"height": size, "width": size, "channels": 3}},
        {"id": "flatten", "type": "layers.Flatten", "params": {}},
        {"id": "dense", "type": "layers.Dense", "params": {"units": 8, "activation": "relu"}},
        {"id": "output", "type": "layers.Dense", "params": {"units": 1, "activation": "sigmoid"}},
        {"id": "dataset", "type": "data.CatsVsDogs",
         "params": {"root": str(root), "train": 0.5, "validation": 0.25, "test": 0.25, "seed": 1}},
        {"id": "format", "type": "data.ImageFormat",
         "params": {"height": size, "width": size, "augmentation": augmentation}},
        {"id": "optimizer", "type": "optimizers.RMSprop", "params": {"learning_rate": 1e-3}},
        {"id": "train", "type": "training.Trainer",
         "params": {"batch_size": 4, "epochs": epochs, "feature_cache": cache, "seed": 3}},
        {"id": "evaluate", "type": "training.Evaluate", "params": {"samples": 3}},
    ]
    edges = [("input", "output", "flatten", "input"), ("flatten", "output", "dense", "input"),
             ("dense", "output", "output", "input"), ("dataset", "dataset", "format", "dataset"),
             ("output", "output", "train", "model"), ("format", "images", "train", "images"),
             ("optimizer", "optimizer", "train", "optimizer"), ("train", "model", "evaluate", "model"),
             ("format", "images", "evaluate", "images")]
    if backbone:
        nodes.append({"id": "backbone", "type": "backbones.EfficientNetLite0",
                      "params": {"weights": "imagenet", "fine_tune_layers": ["top"]}})
        nodes += [
            {"id": "finetune", "type": "training.FineTune", "params": {}},
            {"id": "train_finetuned", "type": "training.Trainer",
             "params": {"batch_size": 4, "epochs": epochs, "feature_cache": cache, "seed": 3}},
        ]
        edges[0] = ("input", "output", "backbone", "input")
        edges.append(("backbone", "output", "flatten", "input"))
        edges += [("train", "model", "finetune", "model"), ("finetune", "model", "train_finetuned", "model"),
                  ("format", "images", "train_finetuned", "images")]
    return {"nodes": nodes, "edges": [{"source": s, "sourceHandle": sh, "target": t, "targetHandle": th}
                                      for s, sh, t, th in edges]}


class Runner:
    """Runs graphs in this process with the real executor and a real on-disk store."""

    def __init__(self, cache_dir: Path):
        from backend.engine import MemoryCache
        from backend.store.artifacts import FileResultStore

        self.store = FileResultStore(cache_dir)
        self.memory = MemoryCache()

    def run(self, graph: dict, targets: list[str], mode: str = "to", cancel_after=None, fresh_memory=False):
        import components
        from backend.engine import Executor, Graph, MemoryCache, make_plan, validate

        if fresh_memory:
            self.memory = MemoryCache()
        g = Graph.model_validate(copy.deepcopy(graph))
        v = validate(g, components.registry)
        assert v.ok, [i.message for i in v.issues]
        plan = make_plan(g, v, components.registry, targets, mode)
        events = []

        def emit(e):
            events.append(json.loads(e.model_dump_json()))

        cancelled = (lambda: cancel_after(events)) if cancel_after else (lambda: False)
        ex = Executor(g, v, components.registry, self.store, emit, memory=self.memory, cancelled=cancelled)
        status = ex.run(plan)
        return status, events, ex


@pytest.fixture
def runner(tmp_path) -> Runner:
    return Runner(tmp_path / "cache")


def of_type(events, type_, node=None):
    return [e for e in events if e["type"] == type_ and (node is None or e.get("node") == node)]


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    random.seed(0)
    yield


# ---------------------------------------------------------------------------- PostgreSQL
# A throwaway cluster made with Debian's postgresql-15 binaries (initdb + pg_ctl) in a
# temporary folder, listening on 127.0.0.1 and a free port. As root, initdb refuses to run,
# so the cluster runs as the ``postgres`` user (runuser). Tests skip PostgreSQL only when
# the binaries are missing (apt-get install postgresql).
PG_BIN_DIRS = [os.environ.get("ABACUS_PG_BIN", ""), "/usr/lib/postgresql/15/bin"]


def _pg_bin() -> Path | None:
    for d in PG_BIN_DIRS:
        if d and (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """URL of the superuser ``abacus`` on a fresh PostgreSQL cluster (maintenance db ``postgres``)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    base = Path(tempfile.mkdtemp(prefix="abacus-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = base / "data", base / "server.log"
    port = _free_port()
    subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "abacus", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    started = subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                              "-o", f"-h 127.0.0.1 -p {port} -k {base} -F", "start"], capture_output=True, text=True)
    if started.returncode != 0:
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{detail}")
    try:
        yield f"postgresql+psycopg://abacus@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)

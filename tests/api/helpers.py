"""Shared helpers for the server tests: tiny image folders, tiny graphs, live servers."""
from __future__ import annotations

import copy
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
OFFLINE_TEMPLATE = REPO / "templates" / "model_optimization_finetuning_offline.json"


def make_image_folder(root: Path, per_class: int = 12, size: int = 40, seed: int = 0) -> Path:
    """Cat/ and Dog/ with random-noise JPEGs (PetImages layout)."""
    rng = np.random.default_rng(seed)
    for cls in ("Cat", "Dog"):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / cls / f"{i}.jpg", quality=80)
    return root


def jpeg_bytes(size: int = 40, seed: int = 1) -> bytes:
    import io

    pixels = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG")
    return buf.getvalue()


def template_graph() -> dict[str, Any]:
    return json.loads(OFFLINE_TEMPLATE.read_text(encoding="utf-8"))


def tiny_graph(root: str, *, epochs: int = 1, backbone: bool = False, size: int = 32) -> dict[str, Any]:
    """The offline template made small: few images, one epoch, small inputs.

    Without ``backbone`` the EfficientNet-Lite0 and fine-tuning nodes are dropped (the
    input feeds Flatten, the trainer feeds Evaluate), which keeps a run to seconds.
    """
    g = copy.deepcopy(template_graph())
    params = {"dataset": {"root": root, "max_per_class": 8}, "train": {"epochs": epochs, "batch_size": 4},
              "train_finetuned": {"epochs": 1, "batch_size": 4},
              "input": {"height": size, "width": size}, "format": {"height": size, "width": size},
              "dense": {"units": 8}}
    if not backbone:
        drop = {"backbone", "finetune", "optimizer_finetune", "train_finetuned"}
        g["nodes"] = [n for n in g["nodes"] if n["id"] not in drop]
        g["edges"] = [e for e in g["edges"] if e["source"] not in drop and e["target"] not in drop]
        g["edges"] += [
            {"id": "input.output->flatten.input", "source": "input", "sourceHandle": "output",
             "target": "flatten", "targetHandle": "input"},
            {"id": "train.model->evaluate.model", "source": "train", "sourceHandle": "model",
             "target": "evaluate", "targetHandle": "model"},
        ]
    for node in g["nodes"]:
        node["params"].update(params.get(node["id"], {}))
    return g


def resume_graph(root: str, epochs: int) -> dict[str, Any]:
    """The tiny graph with ``epochs`` epochs of 4 batches of 2 photos, random flips and dropout: a
    resumed run must restore the batch order, the augmentation and the dropout RNG to end where the
    whole run does (the resume tests, in one process and on a Ray cluster)."""
    g = tiny_graph(root, epochs=epochs)
    for node in g["nodes"]:
        if node["id"] == "train":
            node["params"].update(batch_size=2, seed=5)
        if node["id"] == "format":
            node["params"]["augmentation"] = "flip"
    g["nodes"].append({"id": "dropout", "type": "layers.Dropout", "params": {"rate": 0.3},
                       "position": {"x": 40, "y": 540}})
    g["edges"] = [e for e in g["edges"] if not (e["source"] == "dense" and e["target"] == "output")]
    g["edges"] += [
        {"id": "dense.output->dropout.input", "source": "dense", "sourceHandle": "output", "target": "dropout",
         "targetHandle": "input"},
        {"id": "dropout.output->output.input", "source": "dropout", "sourceHandle": "output", "target": "output",
         "targetHandle": "input"},
    ]
    return g


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


class LiveServer:
    """A real uvicorn server for an app, in a thread, on a free 127.0.0.1 port."""

    def __init__(self, app, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.app = app
        self.port = free_port()
        self.host = host
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=self.port, log_level="warning",
                                                    ws_ping_interval=None))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        wait_for(lambda: self.server.started, 30, what="uvicorn to start")
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

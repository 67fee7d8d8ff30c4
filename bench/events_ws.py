"""Events from the worker to a websocket client, through the real server.

Starts ``abacus serve`` (``python -m backend.cli serve``) as a subprocess on a free
loopback port with a temporary home and data root, makes a project whose graph emits
events fast (the tests' tiny graph: Input 8x8 -> Flatten -> Dense(8) -> Dense(1), batch
size 1, many epochs: one node.progress per training step), runs it once untimed (the
worker imports torch on its first run), then starts the measured run and reads its
stream ``/api/ws/runs/{id}?after=0`` with a ``websockets`` client until the server
closes it.

Reports, over the events created after the client connected ("live" events):
- delivered_per_s: events the client received per second during training
- produced_per_s: the rate the worker made them (the stored events' ``ts``); delivered can
  not exceed it, so when the two match the server keeps up and the producer is the limit
- latency_ms median / p99 / max: client receive time minus the event's ``ts`` (same clock)
- store_append_per_s: how many events per second the run queue stores (SQLite), measured
  directly on a scratch database: the ceiling of the server's store-then-broadcast path,
  one event per transaction (as the dispatcher does) and 100 per transaction
It checks that the client saw every stored event once, in order.
Targets: >= 5,000 events/s delivered, p99 < 50 ms.

Progress coalescing (settings.progress_coalesce_s, 0.1 s by default) is off here
(ABACUS_PROGRESS_COALESCE_S=0) so every event travels; --coalesce 0.1 measures the
default, where the client gets fewer node.progress events by design.

    .venv/bin/python bench/events_ws.py [--per-class 250] [--epochs 20] [--coalesce 0]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import _common as c


def make_images(root: Path, per_class: int, size: int = 16) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label, (folder, channel) in enumerate((("Cat", 0), ("Dog", 2))):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            arr = rng.integers(0, 120, size=(size, size, 3), dtype=np.uint8)
            arr[:, :, channel] = rng.integers(150, 256, size=(size, size), dtype=np.uint8)
            Image.fromarray(arr).save(root / folder / f"{i}.jpg", quality=90)


def tiny_graph(root: Path, epochs: int, size: int = 8) -> dict:
    nodes = [
        {"id": "input", "type": "layers.Input", "params": {"height": size, "width": size, "channels": 3}},
        {"id": "flatten", "type": "layers.Flatten", "params": {}},
        {"id": "dense", "type": "layers.Dense", "params": {"units": 8, "activation": "relu"}},
        {"id": "output", "type": "layers.Dense", "params": {"units": 1, "activation": "sigmoid"}},
        {"id": "dataset", "type": "data.CatsVsDogs",
         "params": {"root": str(root), "train": 0.5, "validation": 0.25, "test": 0.25, "seed": 1}},
        {"id": "format", "type": "data.ImageFormat", "params": {"height": size, "width": size}},
        {"id": "optimizer", "type": "optimizers.RMSprop", "params": {"learning_rate": 1e-3}},
        {"id": "train", "type": "training.Trainer", "params": {"batch_size": 1, "epochs": epochs, "seed": 3}},
    ]
    edges = [("input", "output", "flatten", "input"), ("flatten", "output", "dense", "input"),
             ("dense", "output", "output", "input"), ("dataset", "dataset", "format", "dataset"),
             ("output", "output", "train", "model"), ("format", "images", "train", "images"),
             ("optimizer", "optimizer", "train", "optimizer")]
    return {"nodes": nodes, "edges": [{"source": s, "sourceHandle": sh, "target": t, "targetHandle": th}
                                      for s, sh, t, th in edges]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``abacus serve`` in a subprocess; its output goes to a log file."""

    def __init__(self, home: Path, data_root: Path, coalesce: float, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        env = {**os.environ, "ABACUS_PROGRESS_COALESCE_S": str(coalesce),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(c.REPO), os.environ.get("PYTHONPATH")]))}
        env.pop("ABACUS_TOKEN", None)
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--port", str(self.port), "--home", str(home),
             "--data-root", str(data_root), "--log-level", "warning"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=str(c.REPO), start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"

    def wait_ready(self, http, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited ({self.proc.returncode}):\n{self.log_path.read_text()[-3000:]}")
            try:
                r = http.get(f"{self.url}/api/health", timeout=2)
                if r.status_code == 200 and r.json().get("worker", {}).get("alive"):
                    return
            except Exception:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the server did not come up in {timeout:.0f}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def start_run(http, server: Server, project_id: int) -> str:
    r = http.post(f"{server.url}/api/projects/{project_id}/runs", json={"targets": ["train"], "mode": "to"})
    if r.status_code != 201:
        raise SystemExit(f"POST runs: {r.status_code} {r.text[:500]}")
    return r.json()["id"]


def read_stream(server: Server, run_id: str, timeout: float) -> tuple[float, list[tuple[float, str]]]:
    """(connect time, [(receive time, raw message)]) until the server closes the stream."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    got: list[tuple[float, str]] = []
    with connect(f"{server.ws_url}/api/ws/runs/{run_id}?after=0", max_size=None, open_timeout=30) as ws:
        t_conn = time.time()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                msg = ws.recv(timeout=max(1.0, deadline - time.monotonic()))
                got.append((time.time(), msg))
        except (ConnectionClosed, TimeoutError):
            pass
    return t_conn, got


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(q / 100 * (len(xs) - 1)))))
    return xs[k]


def store_ceiling(n: int = 2000, batch: int = 100) -> tuple[float, float]:
    """Events per second the run queue stores on a scratch SQLite file: one event per
    transaction (RunQueue.append_event, what the dispatcher does today), and ``batch``
    events per transaction (what draining the worker's queue before writing would give)."""
    from backend.store.db import Database
    from backend.store.models import Project, Run
    from backend.store.queue import RunQueue

    tmp = c.tmpdir("store")
    try:
        db = Database(f"sqlite:///{tmp / 'abacus.db'}")
        db.migrate()
        with db.write() as s:
            project = Project(name="bench")
            s.add(project)
            s.flush()
            pid = project.id
        runs = RunQueue(db)
        run, _ = runs.enqueue(pid, {"nodes": [], "edges": []}, ["train"], "to", None)
        event = {"type": "node.progress", "node": "train", "step": 1, "total": 250, "unit": "batch",
                 "phase": "epoch 1/20", "ts": time.time(), "run_id": run.id, "seq": 0}
        t0 = time.perf_counter()
        for i in range(n):
            runs.append_event(run.id, {**event, "step": i})
        one = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            with db.write() as s:
                row = s.get(Run, run.id, with_for_update=True)
                for i in range(start, min(n, start + batch)):
                    runs._append(s, row, {**event, "step": i})
        batched = n / (time.perf_counter() - t0)
        db.dispose()
        return one, batched
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-class", type=int, default=250, help="images per class (half of them train)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--coalesce", type=float, default=0.0, help="the server's progress_coalesce_s")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--keep", action="store_true", help="keep the temporary home (server log inside)")
    args = p.parse_args()

    import httpx

    load_before = c.loadavg()
    tmp = c.tmpdir("ws")
    home, data_root = tmp / "home", tmp / "data"
    make_images(data_root / "pets", args.per_class)
    c.log(f"events_ws: {args.per_class} images per class, {args.epochs} epochs, batch 1, coalesce {args.coalesce}, "
          f"load {load_before}; home {home}")
    server = Server(home, data_root, args.coalesce, tmp / "server.log")
    result: dict = {}
    try:
        with httpx.Client(timeout=60) as http:
            server.wait_ready(http)
            c.log(f"server up at {server.url}")
            warm = http.post(f"{server.url}/api/projects",
                             json={"name": "warm-up", "graph": tiny_graph(data_root / "pets", 1)}).json()["id"]
            run_id = start_run(http, server, warm)
            _, warm_msgs = read_stream(server, run_id, args.timeout)
            c.log(f"warm-up run: {len(warm_msgs)} events, last {json.loads(warm_msgs[-1][1])['type']}")

            pid = http.post(f"{server.url}/api/projects",
                            json={"name": "events", "graph": tiny_graph(data_root / "pets", args.epochs)}).json()["id"]
            run_id = start_run(http, server, pid)
            t_conn, msgs = read_stream(server, run_id, args.timeout)
            stored = http.get(f"{server.url}/api/runs/{run_id}/events").json()
            events = [(t, json.loads(m)) for t, m in msgs]
            c.log(f"measured run {run_id}: {len(events)} events received, {len(stored)} stored, "
                  f"last {events[-1][1]['type'] if events else None}")

        seqs = [e["seq"] for _, e in events]
        in_order = seqs == sorted(set(seqs))
        complete = args.coalesce > 0 or seqs == [e["seq"] for e in stored]
        live = [(t, e) for t, e in events if e["ts"] >= t_conn]
        lat = [(t - e["ts"]) * 1000 for t, e in live]
        steps = [(t, e) for t, e in live if e["type"] == "node.progress" and e.get("node") == "train"
                 and str(e.get("phase", "")).startswith("epoch")]
        training = [(t, e) for t, e in live if e.get("node") == "train" and
                    steps and steps[0][1]["seq"] <= e["seq"] <= steps[-1][1]["seq"]]
        delivered = produced = None
        if len(training) > 1:
            delivered = (len(training) - 1) / (training[-1][0] - training[0][0])
        made = [e for e in stored if e.get("node") == "train" and e["type"] == "node.progress"
                and str(e.get("phase", "")).startswith("epoch")]
        made = [e for e in stored if e.get("node") == "train" and made and made[0]["seq"] <= e["seq"] <= made[-1]["seq"]]
        if len(made) > 1:  # every event the worker made in that window, by its own clock
            produced = (len(made) - 1) / (made[-1]["ts"] - made[0]["ts"])
        tenth = max(1, len(lat) // 10)
        result = {
            "delivered_per_s": round(delivered) if delivered else None,
            "produced_per_s": round(produced) if produced else None,
            "latency_ms": {"median": round(pct(lat, 50), 2), "p99": round(pct(lat, 99), 2),
                           "max": round(max(lat), 2) if lat else None,
                           "first_tenth_median": round(pct(lat[:tenth], 50), 2),
                           "last_tenth_median": round(pct(lat[-tenth:], 50), 2)},
            "targets": {"delivered_ge_5000": bool(delivered and delivered >= 5000),
                        "p99_lt_50ms": bool(lat and pct(lat, 99) < 50)},
            "events": {"received": len(events), "stored": len(stored), "live": len(live),
                       "training_window": len(training), "in_order": in_order, "complete": complete},
        }
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    c.log("store ceiling: appending events to a scratch SQLite run queue")
    one, batched = store_ceiling()
    result["store_append_per_s"] = {"one_per_transaction": round(one), "100_per_transaction": round(batched)}
    c.summary("events_ws", {**result, "config": {"per_class": args.per_class, "epochs": args.epochs,
                                                 "batch_size": 1, "coalesce_s": args.coalesce},
                            "load": {"before": load_before, "after": c.loadavg()}, "machine": c.machine()})


if __name__ == "__main__":
    main()

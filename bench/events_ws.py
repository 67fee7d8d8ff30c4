"""Events from the worker to a websocket client, through the real server.

Two producers, each in a fresh ``abacus serve`` (``python -m backend.cli serve``) on a free
loopback port with a temporary home and data root, read with a ``websockets`` client on
``/api/ws/runs/{id}?after=0`` until the server closes the stream:

1. ``graph``: the real worker runs a graph that trains fast (the tests' tiny graph: Input
   8x8 -> Flatten -> Dense(8) -> Dense(1), batch size 1, many epochs), once untimed (the
   worker imports torch on its first run), then measured. The worker sends node.progress
   at most every 50 ms per node (``PROGRESS_INTERVAL_S`` in backend/worker/local.py; the
   first and last step of every epoch always), so this run makes a few hundred events:
   it shows the latency of a real run, not the server's capacity.
2. ``synthetic``: the same server with its worker process replaced by a producer that
   sends (through the worker's own ``_EventSender``) ``--synthetic-events`` events (80 % node.progress, 10 % node.metrics, 10 %
   node.log, each stamped with ``ts`` when it is put) on the worker's event queue at
   ``--synthetic-rate`` per second (0: as fast as it can), between run.started and
   run.finished. Everything after the queue is the product: the dispatcher, the store,
   the broadcaster, the websocket route. This measures what the server sustains.

Reports for each, over the events created after the client connected ("live" events):
- delivered_per_s: events the client received per second (graph: during training)
- produced_per_s: the rate the producer made them (the stored events' ``ts``); delivered
  can not exceed it, so when the two match the server keeps up and the producer is the limit
- latency_ms median / p99 / max: client receive time minus the event's ``ts`` (same clock)
and, once: store_append_per_s, the run queue's SQLite store measured alone on a scratch
database, one event per transaction (EventLog.append) and 100 per transaction
(EventLog.append_many, what the dispatcher does with what the worker has queued).
It checks that the client saw every stored event once, in order.
Targets: >= 5,000 events/s delivered (synthetic), p99 < 50 ms (both).

Progress coalescing (settings.progress_coalesce_s, 0.1 s by default) is off here
(ABACUS_PROGRESS_COALESCE_S=0) so every event travels; --coalesce 0.1 measures the
default, where the client gets fewer node.progress events by design.

    .venv/bin/python bench/events_ws.py [--per-class 250] [--epochs 20] [--coalesce 0]
        [--synthetic-events 20000] [--synthetic-rate 6000] [--only graph|synthetic] [--no-deflate]
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


SYNTH_PHASE = "epoch 1/1"


def _synthetic_worker_main(commands, out, parent_pid: int, rate: float, count: int) -> None:
    """Stands in for the worker process: answers each run with ``count`` events."""
    from backend.engine import events as ev
    from backend.worker.local import EventSender

    sender = EventSender(out)  # as the real worker sends them
    out.put(("hello", {"kind": "synthetic"}, 1))
    while True:
        cmd = commands.get()
        if cmd is None:
            return
        if cmd[0] != "run":
            continue
        run_id = cmd[1]["run_id"]
        seq = 0

        def put(event) -> None:
            nonlocal seq
            seq += 1
            event.run_id, event.seq, event.ts = run_id, seq, time.time()
            sender.put(event.model_dump(mode="json"))

        put(ev.RunStarted(plan=["train"], cached=[]))
        put(ev.NodeStarted(node="train"))
        t0 = time.perf_counter()
        for i in range(count):
            if rate > 0:
                ahead = t0 + i / rate - time.perf_counter()
                if ahead > 0.001:
                    time.sleep(ahead)
            if i % 10 == 8:
                put(ev.NodeMetrics(node="train", epoch=i, metrics={"loss": 1.0 / (i + 1), "accuracy": 0.5,
                                                                   "val_loss": 0.7, "val_accuracy": 0.5}))
            elif i % 10 == 9:
                put(ev.NodeLog(node="train", message=f"synthetic {i}", data={"i": i}))
            else:
                put(ev.NodeProgress(node="train", step=i + 1, total=count, unit="batch", phase=SYNTH_PHASE))
        put(ev.NodeFinished(node="train", key="synthetic", seconds=round(time.perf_counter() - t0, 3), summary={}))
        put(ev.RunFinished(seconds=round(time.perf_counter() - t0, 3)))


def _serve_synthetic(argv: list[str]) -> None:
    """``events_ws.py --serve-synthetic RATE COUNT SERVE-ARGS...``: abacus serve, fake worker."""
    rate, count, serve_args = float(argv[0]), int(argv[1]), argv[2:]
    import multiprocessing as mp

    import backend.api.app as app
    from backend.cli import main as cli_main
    from backend.worker.process import ProcessWorker

    class SyntheticWorker(ProcessWorker):
        kind = "synthetic"

        def _child(self):
            return _synthetic_worker_main, (rate, count)

    mp.set_start_method("spawn", force=True)
    app.make_worker = lambda settings: SyntheticWorker()
    raise SystemExit(cli_main(["serve", *serve_args]))


class Server:
    """``abacus serve`` in a subprocess (its worker replaced by ``synthetic``); output to a log file."""

    def __init__(self, home: Path, data_root: Path, coalesce: float, log_path: Path,
                 synthetic: tuple[float, int] | None = None) -> None:
        self.port = free_port()
        self.log_path = log_path
        env = {**os.environ, "ABACUS_PROGRESS_COALESCE_S": str(coalesce),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(c.REPO), os.environ.get("PYTHONPATH")]))}
        env.pop("ABACUS_TOKEN", None)
        self.log = open(log_path, "w")
        serve = ["--port", str(self.port), "--home", str(home), "--data-root", str(data_root),
                 "--log-level", "warning"]
        if synthetic is None:
            cmd = [sys.executable, "-m", "backend.cli", "serve", *serve]
        else:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-synthetic", str(synthetic[0]),
                   str(synthetic[1]), *serve]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=str(c.REPO),
                                     start_new_session=True)
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


def read_stream(server: Server, run_id: str, timeout: float,
                deflate: bool = True) -> tuple[float, list[tuple[float, str]]]:
    """(connect time, [(receive time, raw message)]) until the server closes the stream.

    The client offers permessage-deflate as browsers do (``deflate=False``: it does not)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    got: list[tuple[float, str]] = []
    with connect(f"{server.ws_url}/api/ws/runs/{run_id}?after=0", max_size=None, open_timeout=30,
                 compression="deflate" if deflate else None) as ws:
        t_conn = time.time()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                msg = ws.recv(timeout=max(1.0, deadline - time.monotonic()))
                got.append((time.time(), msg))
        except (ConnectionClosed, TimeoutError):
            pass
    return t_conn, got


def events_in(message: str) -> list[dict]:
    """A message is one event (a JSON object) or a burst of them in order (a JSON array)."""
    data = json.loads(message)
    return data if isinstance(data, list) else [data]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(q / 100 * (len(xs) - 1)))))
    return xs[k]


def store_ceiling(n: int = 2000, batch: int = 100) -> tuple[float, float]:
    """Events per second the run queue stores on a scratch SQLite file: one event per
    transaction (EventLog.append) and ``batch`` per transaction (EventLog.append_many,
    what the dispatcher does with the events the worker has already queued)."""
    from backend.store.db import Database
    from backend.store.models import Project
    from backend.engine import events as ev
    from backend.store.events import EventLog
    from backend.store.runs import RunQueue

    tmp = c.tmpdir("store")
    try:
        db = Database(f"sqlite:///{tmp / 'abacus.db'}")
        db.migrate()
        with db.write() as s:
            project = Project(name="bench")
            s.add(project)
            s.flush()
            pid = project.id
        log = EventLog(db)
        run, _ = RunQueue(db, log).enqueue(pid, {"nodes": [], "edges": []}, ["train"], "to", None)

        def progress(step: int) -> ev.NodeProgress:
            return ev.NodeProgress(node="train", step=step, total=250, unit="batch", phase="epoch 1/20")

        t0 = time.perf_counter()
        for i in range(n):
            log.append(run.id, progress(i))
        one = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            log.append_many(run.id, [progress(i) for i in range(start, min(n, start + batch))])
        batched = n / (time.perf_counter() - t0)
        db.dispose()
        return one, batched
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rate(points: list[tuple[float, dict]]) -> float | None:
    """Events per second from the first to the last of (time, event) points."""
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return (len(points) - 1) / (points[-1][0] - points[0][0])


def analyse(t_conn: float, events: list[tuple[float, dict]], stored: list[dict], coalesce: float,
            window_of) -> dict:
    """Rates and latencies; ``window_of(event)`` says which events make the measured window."""
    seqs = [e["seq"] for _, e in events]
    in_order = seqs == sorted(set(seqs))
    complete = coalesce > 0 or seqs == [e["seq"] for e in stored]
    live = [(t, e) for t, e in events if e["ts"] >= t_conn]
    lat = [(t - e["ts"]) * 1000 for t, e in live]
    marks = [e["seq"] for _, e in live if window_of(e)]
    window = [(t, e) for t, e in live if marks and marks[0] <= e["seq"] <= marks[-1]]
    made = [(e["ts"], e) for e in stored if e["ts"] >= t_conn and marks and marks[0] <= e["seq"] <= marks[-1]]
    delivered, produced = rate(window), rate(made)
    tenth = max(1, len(lat) // 10)
    types: dict[str, int] = {}
    for e in stored:
        types[e["type"]] = types.get(e["type"], 0) + 1
    return {
        "delivered_per_s": round(delivered) if delivered else None,
        "produced_per_s": round(produced) if produced else None,
        "latency_ms": {"median": round(pct(lat, 50), 2), "p99": round(pct(lat, 99), 2),
                       "max": round(max(lat), 2) if lat else None,
                       "first_tenth_median": round(pct(lat[:tenth], 50), 2),
                       "last_tenth_median": round(pct(lat[-tenth:], 50), 2)},
        "targets": {"delivered_ge_5000": bool(delivered and delivered >= 5000),
                    "p99_lt_50ms": bool(lat and pct(lat, 99) < 50)},
        "events": {"received": len(events), "stored": len(stored), "live": len(live), "window": len(window),
                   "in_order": in_order, "complete": complete, "stored_by_type": types},
    }


def measure(tmp: Path, data_root: Path, args, synthetic: tuple[float, int] | None) -> dict:
    import httpx

    name = "graph" if synthetic is None else "synthetic"
    server = Server(tmp / f"home-{name}", data_root, args.coalesce, tmp / f"server-{name}.log", synthetic)
    try:
        with httpx.Client(timeout=60) as http:
            server.wait_ready(http)
            c.log(f"{name}: server up at {server.url}")
            if synthetic is None:
                warm = http.post(f"{server.url}/api/projects",
                                 json={"name": "warm-up", "graph": tiny_graph(data_root / "pets", 1)}).json()["id"]
                run_id = start_run(http, server, warm)
                _, warm_msgs = read_stream(server, run_id, args.timeout)
                c.log(f"warm-up run: {len(warm_msgs)} events, last {events_in(warm_msgs[-1][1])[-1]['type']}")
            epochs = args.epochs if synthetic is None else 1
            pid = http.post(f"{server.url}/api/projects",
                            json={"name": "events", "graph": tiny_graph(data_root / "pets", epochs)}).json()["id"]
            run_id = start_run(http, server, pid)
            t_conn, msgs = read_stream(server, run_id, args.timeout, deflate=not args.no_deflate)
            stored = http.get(f"{server.url}/api/runs/{run_id}/events").json()
            events = [(t, e) for t, m in msgs for e in events_in(m)]
            c.log(f"{name}: run {run_id}: {len(events)} events received, {len(stored)} stored, "
                  f"last {events[-1][1]['type'] if events else None}")
    finally:
        server.stop()
    if synthetic is None:  # training: from the first to the last epoch step of the trainer
        def window_of(e):
            return (e["type"] == "node.progress" and e.get("node") == "train"
                    and str(e.get("phase", "")).startswith("epoch"))
    else:  # everything between node.started and node.finished
        def window_of(e):
            return e["type"] in ("node.progress", "node.metrics", "node.log")
    return analyse(t_conn, events, stored, args.coalesce, window_of)


def main() -> None:
    if sys.argv[1:2] == ["--serve-synthetic"]:
        _serve_synthetic(sys.argv[2:])
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-class", type=int, default=250, help="images per class (half of them train)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--coalesce", type=float, default=0.0, help="the server's progress_coalesce_s")
    p.add_argument("--synthetic-events", type=int, default=20000)
    p.add_argument("--synthetic-rate", type=float, default=6000.0, help="events per second (0: unpaced)")
    p.add_argument("--only", choices=("graph", "synthetic"))
    p.add_argument("--no-deflate", action="store_true",
                   help="the measured client does not offer permessage-deflate (browsers do)")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--keep", action="store_true", help="keep the temporary home (server log inside)")
    args = p.parse_args()

    load_before = c.loadavg()
    tmp = c.tmpdir("ws")
    data_root = tmp / "data"
    make_images(data_root / "pets", args.per_class)
    c.log(f"events_ws: {args.per_class} images per class, {args.epochs} epochs, batch 1, coalesce {args.coalesce}, "
          f"synthetic {args.synthetic_events} at {args.synthetic_rate}/s, load {load_before}; tmp {tmp}")
    result: dict = {}
    try:
        if args.only in (None, "graph"):
            result["graph"] = measure(tmp, data_root, args, None)
        if args.only in (None, "synthetic"):
            result["synthetic"] = measure(tmp, data_root, args, (args.synthetic_rate, args.synthetic_events))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    c.log("store ceiling: appending events to a scratch SQLite run queue")
    one, batched = store_ceiling()
    result["store_append_per_s"] = {"one_per_transaction": round(one), "100_per_transaction": round(batched)}
    c.summary("events_ws", {**result, "config": {"per_class": args.per_class, "epochs": args.epochs,
                                                 "batch_size": 1, "coalesce_s": args.coalesce,
                                                 "synthetic_events": args.synthetic_events,
                                                 "synthetic_rate": args.synthetic_rate,
                                                 "deflate": not args.no_deflate},
                            "load": {"before": load_before, "after": c.loadavg()}, "machine": c.machine()})


if __name__ == "__main__":
    main()

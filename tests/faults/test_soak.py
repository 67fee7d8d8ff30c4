"""Soak: a few hundred small runs, predictions and websocket replays against a real server
process; its memory, open files and threads, and the worker's, must stay flat.

After a warm-up (the first runs and predictions load modules, fill pools and caches), the
server and its embedded worker are sampled; then the same mix runs again many times and is
sampled again. Runs differ by the dataset's seed, so each one executes (no cache hit);
every tenth also trains a new model (the worker's memory cache is bounded by bytes, here
small, so new models must push old ones out). Growth allowed: a few file descriptors and
threads (pools may settle), and a margin of RSS well under what one leaked model per run
would add (~0.5 MB each here, hundreds of runs).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import httpx
from websockets.sync.client import connect

from api.helpers import free_port, jpeg_bytes, tiny_graph, wait_for
from api.test_restart import ServerProcess

WARMUP = 30
ROUNDS = 200


def proc_stats(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"rss_kb": int(fields["VmRSS"].split()[0]), "threads": int(fields["Threads"]),
            "fds": len(list(Path(f"/proc/{pid}/fd").iterdir()))}


def wait_run(http: httpx.Client, run_id: str) -> dict:
    def done():
        run = http.get(f"/api/runs/{run_id}").json()
        return run if run["status"] not in ("queued", "running") else None

    return wait_for(done, 120, 0.05, f"run {run_id} to end")


def test_soak_runs_predictions_and_sockets_stay_flat(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("ABACUS_WORKER_MEMORY_MB", "8")
    monkeypatch.setenv("ABACUS_WORKER_MODELS_MB", "4")
    port = free_port()
    server = ServerProcess(tmp_path / "home", data_root, port)
    try:
        server.wait_ready()
        http = server.http
        graph = tiny_graph("cv")
        pid = http.post("/api/projects", json={"name": "soak", "graph": graph}).json()["id"]
        model_run = http.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"}).json()
        assert wait_run(http, model_run["id"])["status"] == "finished"
        worker_pid = http.get("/api/health").json()["worker"]["pid"]
        assert worker_pid, "the embedded worker has a process"
        image = jpeg_bytes()

        def one_round(i: int) -> None:
            g = copy.deepcopy(graph)
            for node in g["nodes"]:
                if node["id"] == "dataset":
                    node["params"]["seed"] = 1000 + i
                if node["id"] == "dense" and i % 10 == 0:
                    node["params"]["units"] = 4 + i % 97
            target = "train" if i % 10 == 0 else "dataset"
            r = http.post(f"/api/projects/{pid}/runs", json={"targets": [target], "mode": "to", "graph": g})
            assert r.status_code == 201, r.text
            run = wait_run(http, r.json()["id"])
            assert run["status"] == "finished", run
            p = http.post(f"/api/runs/{model_run['id']}/predict", params={"node": "train"},
                          files={"file": ("x.jpg", image, "image/jpeg")})
            assert p.status_code == 200, p.text
            if i % 5 == 0:  # a replayed run: the socket sends the backlog and the events end the run
                with connect(f"ws://127.0.0.1:{port}/api/ws/runs/{run['id']}?after=0", open_timeout=10) as ws:
                    events = []
                    while not any(e["type"] == "run.finished" for e in events):
                        msg = json.loads(ws.recv(timeout=10))
                        events += msg if isinstance(msg, list) else [msg]

        for i in range(WARMUP):
            one_round(i)
        before = {"server": proc_stats(server.proc.pid), "worker": proc_stats(worker_pid)}
        for i in range(WARMUP, WARMUP + ROUNDS):
            one_round(i)
        after = {"server": proc_stats(server.proc.pid), "worker": proc_stats(worker_pid)}
        assert http.get("/api/health").json()["worker"]["pid"] == worker_pid, "the worker was never restarted"
        print(f"soak: {ROUNDS} rounds, before {before}, after {after}")
        for who in ("server", "worker"):
            b, a = before[who], after[who]
            assert a["fds"] <= b["fds"] + 4, (who, b, a)
            assert a["threads"] <= b["threads"] + 3, (who, b, a)
            assert a["rss_kb"] <= b["rss_kb"] + 48 * 1024, (who, b, a)
    finally:
        server.stop()

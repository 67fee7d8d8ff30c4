"""Websockets against a real uvicorn server with a real websocket client."""
from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .conftest import make_settings
from .helpers import LiveServer, tiny_graph, wait_for


@pytest.fixture(scope="module")
def live(tmp_path_factory, data_root):
    from backend.api.app import create_app

    app = create_app(make_settings(tmp_path_factory.mktemp("home"), data_root))
    with LiveServer(app) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            server.http = http
            yield server


def events_of(message: str) -> list[dict]:
    """A message holds one event (an object) or several in order (an array)."""
    data = json.loads(message)
    return data if isinstance(data, list) else [data]


def read_until_closed(ws, timeout: float = 60.0) -> list[dict]:
    out = []
    try:
        while True:
            out.extend(events_of(ws.recv(timeout=timeout)))
    except ConnectionClosed:
        return out


def stored_events(live, run_id):
    return live.http.get(f"/api/runs/{run_id}/events").json()


def start_run(live, epochs=20, targets=("train",)):
    pid = live.http.post("/api/projects", json={"name": "ws", "graph": tiny_graph("cv", epochs=epochs)}).json()["id"]
    r = live.http.post(f"/api/projects/{pid}/runs", json={"targets": list(targets), "mode": "to"})
    assert r.status_code == 201, r.text
    return pid, r.json()["id"]


def test_replay_after_reconnect_has_no_gap_and_no_duplicate(live):
    live.app.state.services.settings.progress_coalesce_s = 0
    _, run_id = start_run(live, epochs=12)
    first = []
    with connect(f"{live.ws_url}/api/ws/runs/{run_id}?after=0") as ws:
        while len(first) < 12:
            first.extend(events_of(ws.recv(timeout=60)))
    assert [e["seq"] for e in first] == list(range(1, len(first) + 1))
    with connect(f"{live.ws_url}/api/ws/runs/{run_id}?after={first[-1]['seq']}") as ws:
        rest = read_until_closed(ws)
    got = first + rest
    assert got[-1]["type"] == "run.finished"
    assert got == stored_events(live, run_id)

    # a client that comes after the end gets everything, then the socket closes
    with connect(f"{live.ws_url}/api/ws/runs/{run_id}") as ws:
        assert read_until_closed(ws) == got
    with connect(f"{live.ws_url}/api/ws/runs/{run_id}?after={len(got) - 2}") as ws:
        assert read_until_closed(ws) == got[-2:]


def test_project_stream_carries_every_run_event(live):
    live.app.state.services.settings.progress_coalesce_s = 0
    pid = live.http.post("/api/projects", json={"name": "p", "graph": tiny_graph("cv", epochs=2)}).json()["id"]
    with connect(f"{live.ws_url}/api/ws/projects/{pid}") as ws:
        run_id = live.http.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]}).json()["id"]
        seen = []
        while not seen or seen[-1]["type"] not in ("run.finished", "run.failed"):
            seen.extend(events_of(ws.recv(timeout=60)))
    assert seen[0]["type"] == "run.queued" and all(e["run_id"] == run_id for e in seen)
    assert seen == stored_events(live, run_id)


def test_progress_is_coalesced_but_metrics_are_not(live):
    live.app.state.services.settings.progress_coalesce_s = 0.5
    try:
        _, run_id = start_run(live, epochs=40)
        with connect(f"{live.ws_url}/api/ws/runs/{run_id}?after=1") as ws:
            got = read_until_closed(ws)
    finally:
        live.app.state.services.settings.progress_coalesce_s = 0
    stored = stored_events(live, run_id)[1:]
    not_progress = [e for e in stored if e["type"] != "node.progress"]
    assert [e for e in got if e["type"] != "node.progress"] == not_progress
    assert len([e for e in not_progress if e["type"] == "node.metrics"]) == 40
    seqs = [e["seq"] for e in got]
    assert seqs == sorted(set(seqs))  # in order, no duplicate
    assert len(got) < len(stored)  # some progress was coalesced on the wire
    for node in {e["node"] for e in stored if e["type"] == "node.progress"}:
        last = [e for e in stored if e["type"] == "node.progress" and e["node"] == node][-1]
        assert last in got  # the latest progress of each node always arrives


def test_unknown_run_or_project(live):
    for path in ("/api/ws/runs/0badc0de", "/api/ws/projects/999999", "/api/ws/runs/NOT-HEX"):
        with connect(f"{live.ws_url}{path}") as ws:
            first = json.loads(ws.recv(timeout=10))
            assert first["error"]["code"] == "not_found"
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=10)
        assert info.value.rcvd.code == 4404


def test_worker_killed_mid_run(live):
    """kill -9 of the worker: the run fails with worker_died, the server keeps serving, a new
    worker comes up, and the next run works."""
    import os
    import signal

    old_pid = live.http.get("/api/health").json()["worker"]["pid"]
    assert old_pid
    pid, run_id = start_run(live, epochs=1000)
    wait_for(lambda: any(e["type"] == "node.metrics" for e in stored_events(live, run_id)), 60,
             what="training to start")
    os.kill(old_pid, signal.SIGKILL)
    run = wait_for(lambda: (r := live.http.get(f"/api/runs/{run_id}").json())["status"] != "running" and r, 30)
    assert run["status"] == "failed"
    assert run["error"]["code"] == "worker_died"
    assert "SIGKILL" in run["error"]["message"] and "worker" in run["error"]["message"]
    last = stored_events(live, run_id)[-1]
    assert last["type"] == "run.failed" and last["code"] == "worker_died"

    health = wait_for(lambda: (h := live.http.get("/api/health").json())["worker"]["alive"] and h, 30)
    assert health["worker"]["pid"] not in (None, old_pid)
    again = live.http.post(f"/api/projects/{pid}/runs",
                           json={"targets": ["train"], "graph": tiny_graph("cv", epochs=1)}).json()
    final = wait_for(lambda: (r := live.http.get(f"/api/runs/{again['id']}").json())["status"]
                     not in ("queued", "running") and r, 90)
    assert final["status"] == "finished", final

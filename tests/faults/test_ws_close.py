"""Issue 12, item 6: a run's replay websocket ends when the run is over, whatever ``after`` is.

A replay of a finished run with ``after`` at or beyond its last seq used to stay open for as
long as the client liked (one server fd each); a malformed ``after`` was refused with an empty
403 handshake. Real uvicorn server, real websocket client.
"""
from __future__ import annotations

import contextlib
import json
import os
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.conftest import make_settings
from api.helpers import LiveServer, tiny_graph, wait_for

CLOSE_WITHIN = 5.0  # seconds a finished run's socket may stay open after the backlog


@pytest.fixture(scope="module")
def live(tmp_path_factory, data_root):
    from backend.api.app import create_app

    app = create_app(make_settings(tmp_path_factory.mktemp("home"), data_root))
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        server.http = http
        yield server


def start_run(live, epochs: int = 1) -> str:
    graph = tiny_graph("cv", epochs=epochs)
    pid = live.http.post("/api/projects", json={"name": "ws-close", "graph": graph}).json()["id"]
    r = live.http.post(f"/api/projects/{pid}/runs", json={"targets": ["train"], "mode": "to"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture(scope="module")
def finished(live):
    """(run id, its stored events) of a tiny run that has finished."""
    run_id = start_run(live)
    wait_for(lambda: live.http.get(f"/api/runs/{run_id}").json()["status"] not in ("queued", "running"), 120,
             what="the tiny run to end")
    events = live.http.get(f"/api/runs/{run_id}/events").json()
    assert events[-1]["type"] == "run.finished"
    return run_id, events


def drain(ws, timeout: float = CLOSE_WITHIN) -> tuple[list[dict], ConnectionClosed]:
    """Every event until the server closes; fails if it is still open after ``timeout``."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the socket is still open {timeout}s later")
        try:
            message = ws.recv(timeout=left)
        except TimeoutError:
            raise AssertionError(f"the socket is still open {timeout}s later") from None
        except ConnectionClosed as closed:
            return got, closed
        data = json.loads(message)
        got.extend(data if isinstance(data, list) else [data])


def test_replay_of_a_finished_run_closes_whatever_after_is(live, finished):
    run_id, stored = finished
    last = stored[-1]["seq"]
    for after in (0, last - 1, last, last + 1, last + 100, 2**63 - 1):
        with connect(f"{live.ws_url}/api/ws/runs/{run_id}?after={after}") as ws:
            got, closed = drain(ws)
        assert got == [e for e in stored if e["seq"] > after], after
        assert closed.rcvd is not None and closed.rcvd.code == 1000, (after, closed)
        assert closed.rcvd.reason == "run finished"


def test_live_stream_closes_at_the_end_even_when_after_is_beyond_every_seq(live):
    """Subscribed while the run is active with an ``after`` it never reaches: the terminal
    event is not sent again, but it still ends the stream."""
    run_id = start_run(live, epochs=3)
    with connect(f"{live.ws_url}/api/ws/runs/{run_id}?after=1000000") as ws:
        got, closed = drain(ws, timeout=120)
    assert got == []
    assert closed.rcvd is not None and closed.rcvd.code == 1000
    assert closed.rcvd.reason == "run finished"
    assert live.http.get(f"/api/runs/{run_id}").json()["status"] == "finished"


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", "", "0x10", "99999999999999999999999"])
def test_malformed_after_gets_a_typed_close_not_a_refused_handshake(live, finished, after):
    run_id, _ = finished
    with connect(f"{live.ws_url}/api/ws/runs/{run_id}?after={after}") as ws:
        got, closed = drain(ws)
    assert len(got) == 1 and got[0]["type"] == "error", got
    assert got[0]["error"]["code"] == "invalid_after" and got[0]["error"]["field"] == "after"
    assert closed.rcvd is not None and closed.rcvd.code == 4400
    assert "after" in closed.rcvd.reason


def test_unknown_run_gets_a_typed_close(live):
    for run_id in ("0badc0de", "NOT-HEX"):
        with connect(f"{live.ws_url}/api/ws/runs/{run_id}?after=0") as ws:
            got, closed = drain(ws)
        assert got[0]["error"]["code"] == "not_found"
        assert closed.rcvd.code == 4404 and run_id in closed.rcvd.reason
    with connect(f"{live.ws_url}/api/ws/projects/not-a-number") as ws:  # was an empty 403 refusal
        got, closed = drain(ws)
    assert got[0]["error"]["code"] == "not_found" and closed.rcvd.code == 4404


def _server_sockets(port: int) -> int:
    """Open fds of this process that are accepted TCP connections on ``port`` (the server's side)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] != "0A":  # not the listening socket
                inodes.add(fields[9])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


def test_twenty_replay_sockets_of_a_finished_run_give_their_fds_back(live, finished):
    run_id, stored = finished
    last = stored[-1]["seq"]
    before = _server_sockets(live.port)  # e.g. the test's own keep-alive HTTP connection
    with contextlib.ExitStack() as opened:
        sockets = [opened.enter_context(connect(f"{live.ws_url}/api/ws/runs/{run_id}?after={last + (i % 2) * 100}"))
                   for i in range(20)]
        # the server side of each connection goes away although the clients never read nor close
        wait_for(lambda: _server_sockets(live.port) <= before, CLOSE_WITHIN * 2,
                 what="the server to close the 20 replay sockets")
        for ws in sockets:
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=CLOSE_WITHIN)
            assert info.value.rcvd.code == 1000

"""The access token on HTTP and websockets (in-process server bound to 0.0.0.0)."""
from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from backend.api.security import check_bind, is_loopback

from .conftest import make_settings
from .helpers import LiveServer


def test_bind_rules():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "t")
    with pytest.raises(SystemExit, match="without an access token"):
        check_bind("0.0.0.0", None)


def test_token_guards_http_and_websockets(tmp_path, data_root):
    from backend.api.app import create_app

    app = create_app(make_settings(tmp_path / "home", data_root, token="s3cret", host="0.0.0.0"),
                     start_worker=False)
    with LiveServer(app, host="0.0.0.0") as server, httpx.Client(base_url=server.url) as http:
        for path in ("/api/health", "/api/projects", "/openapi.json", "/"):
            r = http.get(path)
            assert r.status_code == 401, path
            assert r.json()["error"]["code"] == "unauthorized"
        assert http.get("/api/health", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert http.get("/api/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        r = http.get("/", params={"token": "s3cret"})
        assert r.status_code == 200 and "abacus_token" in r.headers["set-cookie"]
        assert http.get("/api/health").status_code == 200  # the cookie the browser keeps

        pid = httpx.post(f"{server.url}/api/projects", json={"name": "x"},
                         headers={"Authorization": "Bearer s3cret"}).json()["id"]
        with pytest.raises(InvalidStatus) as info:
            with connect(f"{server.ws_url}/api/ws/projects/{pid}"):
                pass
        assert info.value.response.status_code == 401
        with pytest.raises(InvalidStatus):
            with connect(f"{server.ws_url}/api/ws/projects/{pid}?token=wrong"):
                pass
        with connect(f"{server.ws_url}/api/ws/projects/{pid}?token=s3cret") as ws:
            ws.ping().wait(5)
        with connect(f"{server.ws_url}/api/ws/runs/0abc?token=s3cret") as ws:
            assert json.loads(ws.recv(timeout=5))["error"]["code"] == "not_found"

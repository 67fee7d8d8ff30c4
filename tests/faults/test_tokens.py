"""Issue 12, item 8: the access token does not leak, and a weak one does not guard a public bind.

Real ``abacus serve`` processes: the access log must not print ``?token=...`` (HTTP and
websockets), ``--token-file`` keeps the token out of ``ps``, ``--token`` warns that it is
visible there, and off loopback a blank or short token is refused before anything binds.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from api.helpers import REPO, free_port, wait_for
MIN_TOKEN_LENGTH = 16  # the rule: off loopback a token needs at least this many characters


class Served:
    """``python -m backend.cli serve`` on a free port; stdout and stderr together in a file."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log_path = home.parent / f"serve-{time.time_ns()}.log"
        self.log = open(self.log_path, "w+")
        base = {k: v for k, v in os.environ.items() if k != "ABACUS_TOKEN"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--home", str(home), "--port", str(self.port), *args],
            cwd=REPO, env={**base, **(env or {})}, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_started(self) -> "Served":
        def started():
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited ({self.proc.returncode}): {self.output()}")
            return "Abacus studio: http://" in self.output()

        wait_for(started, 60, 0.1, "the server to start")
        return self

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        return self.log_path.read_text(errors="replace")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def _close_code(url: str) -> int:
    with connect(url) as ws:
        with pytest.raises(ConnectionClosed) as info:
            while True:
                ws.recv(timeout=10)
    return info.value.rcvd.code


def _cmdlines(pid: int) -> list[bytes]:
    """The command lines of a process and of all its descendants."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            out.append(Path(f"/proc/{current}/cmdline").read_bytes())
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return out


def test_token_file_public_bind_no_token_in_ps_nor_in_the_access_log(tmp_path):
    """--token-file on 0.0.0.0: the token is read stripped, appears in no command line of the
    server or its worker, and neither it nor a wrong guess is printed by the access log (HTTP
    lines and websocket lines), although the requests carried them as ?token=."""
    secret = "redact-me-" + secrets.token_hex(12)
    wrong = "wrong-guess-" + secrets.token_hex(8)
    token_file = tmp_path / "token"
    token_file.write_text(f"  {secret}\n")
    token_file.chmod(0o600)
    server = Served(tmp_path / "home", "--host", "0.0.0.0", "--token-file", str(token_file), "--log-level", "info")
    try:
        server.wait_started()
        lines = _cmdlines(server.proc.pid)
        assert len(lines) >= 2, lines  # the server and its worker
        assert b"--token-file" in lines[0] and not any(secret.encode() in line for line in lines)
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get("/api/health").status_code == 401
            assert http.get("/api/health", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
            assert http.get("/api/health", params={"token": secret}).status_code == 200
            assert http.get("/api/projects", params={"token": wrong}).status_code == 401
        assert _close_code(f"{server.ws_url}/api/ws/runs/0abc?token={secret}") == 4404
        assert _close_code(f"{server.ws_url}/api/ws/projects/1?after=x&token={secret}") == 4404
        with pytest.raises(InvalidStatus):
            with connect(f"{server.ws_url}/api/ws/runs/0abc?token={wrong}"):
                pass
    finally:
        out = server.stop()
    assert secret not in out and wrong not in out, out
    # the requests were logged, with the token replaced
    assert "GET /api/health?token=*** HTTP/1.1" in out, out
    assert "/api/projects?token=***" in out, out
    assert "WebSocket /api/ws/runs/0abc?token=***" in out, out
    assert "after=x&token=***" in out, out
    assert "abacus: warning" not in out, out


@pytest.mark.parametrize("args, env, message", [
    (["--host", "0.0.0.0"], {"ABACUS_TOKEN": "   "}, "without an access token"),
    (["--host", "0.0.0.0", "--token", "\t "], {}, "without an access token"),
    (["--host", "0.0.0.0"], {"ABACUS_TOKEN": "x" * (MIN_TOKEN_LENGTH - 1)}, "weak access token"),
    (["--host", "192.0.2.1", "--token-file", "short"], {}, "weak access token"),
    (["--host", "::", "--token", "s3cret"], {}, "weak access token"),
    (["--token-file", "missing"], {}, "no such file"),
    (["--token-file", "empty"], {}, "is empty"),
])
def test_weak_or_missing_tokens_are_refused(tmp_path, monkeypatch, args, env, message):
    """Refused before anything binds: in-process through the CLI's entry point."""
    from backend.cli import main

    def served(self, *a, **kw):
        raise AssertionError("the server was started")

    monkeypatch.setattr("uvicorn.Server.run", served)
    (tmp_path / "short").write_text("only-15-chars..\n")
    (tmp_path / "empty").write_text(" \n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ABACUS_TOKEN", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as info:
        main(["serve", "--home", str(tmp_path / "home"), "--port", "1", *args])
    assert message in str(info.value.code), info.value.code


def test_refusal_is_a_clear_error_exit(tmp_path):
    base = {k: v for k, v in os.environ.items() if k != "ABACUS_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "backend.cli", "serve", "--home", str(tmp_path / "home"),
                             "--port", str(free_port()), "--host", "0.0.0.0"], cwd=REPO, capture_output=True,
                            text=True, timeout=30, env={**base, "ABACUS_TOKEN": "short-token"})
    assert result.returncode == 1
    assert result.stderr.startswith("abacus: refusing to listen on 0.0.0.0 with a weak access token")
    assert "Traceback" not in result.stderr and "Abacus studio" not in result.stdout
    both = subprocess.run([sys.executable, "-m", "backend.cli", "serve", "--token", "x" * 20, "--token-file", "f"],
                          cwd=REPO, capture_output=True, text=True, timeout=30, env=base)
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_short_token_on_loopback_is_allowed_with_warnings(tmp_path):
    server = Served(tmp_path / "home", "--token", "s3cret", "--log-level", "info")
    try:
        server.wait_started()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get("/api/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200
            assert http.get("/api/nothing-here", params={"token": "s3cret"}).status_code == 404
        assert _close_code(f"{server.ws_url}/api/ws/runs/0abc?token=s3cret") == 4404
    finally:
        out = server.stop()
    assert "s3cret" not in out and "/api/nothing-here?token=*** HTTP/1.1" in out, out
    assert "--token is visible to every user" in out, out
    assert f"shorter than {MIN_TOKEN_LENGTH} characters" in out, out

    from backend.api.security import check_token_strength

    assert check_token_strength("::1", "abc") and check_token_strength("localhost", "x" * 15)
    assert check_token_strength("0.0.0.0", "x" * MIN_TOKEN_LENGTH) is None


def test_redaction_keeps_the_access_formatter_arguments():
    """uvicorn's access formatter unpacks the record's arguments by position."""
    import logging

    from uvicorn.logging import AccessFormatter

    from backend.api.security import RedactTokens

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/api/x?a=1&token=abcdefgh12345678", "1.1", 200), None)
    assert RedactTokens("abcdefgh12345678").filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '127.0.0.1:5 - "GET /api/x?a=1&token=*** HTTP/1.1" 200 OK'

"""The access token: when set, every HTTP request and websocket must carry it."""
from __future__ import annotations

import ipaddress
import json
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "abacus_token"


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve a non-loopback address without an access token."""
    if not is_loopback(host) and not token:
        raise SystemExit(f"abacus: refusing to listen on {host} without an access token: "
                         f"set --token or ABACUS_TOKEN (only 127.0.0.1 may go without one)")


def _presented(scope: Scope) -> tuple[str | None, bool]:
    """(token, came_from_query) from the Authorization header, ?token= or the cookie."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip(), False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], True
    if "cookie" in headers:
        cookie = SimpleCookie()
        try:
            cookie.load(headers["cookie"])
        except Exception:
            return None, False
        if COOKIE in cookie:
            return cookie[COOKIE].value, False
    return None, False


class TokenMiddleware:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given, from_query = _presented(scope)
        if given is not None and secrets.compare_digest(given.encode(), self.token.encode()):
            if scope["type"] == "http" and from_query:
                # A browser opened ?token=...: remember it so the editor's own requests pass.
                async def send_with_cookie(message):
                    if message["type"] == "http.response.start":
                        headers = list(message.get("headers", []))
                        headers.append((b"set-cookie", f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; "
                                                       f"Path=/".encode("latin-1")))
                        message = {**message, "headers": headers}
                    await send(message)

                await self.app(scope, receive, send_with_cookie)
                return
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": {"code": "unauthorized",
                                     "message": "this server needs an access token: send 'Authorization: "
                                                "Bearer TOKEN' or add ?token=TOKEN",
                                     "node": None, "port": None, "field": None}}).encode()
        if scope["type"] == "websocket":
            await receive()  # the websocket.connect message
            if "websocket.http.response" in scope.get("extensions", {}):
                await send({"type": "websocket.http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "websocket.http.response.body", "body": body})
            else:
                await send({"type": "websocket.close", "code": 1008, "reason": "unauthorized"})
            return
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": body})


class UploadLimitMiddleware:
    """Refuse a request body larger than the upload limit before reading it."""

    def __init__(self, app: ASGIApp, limit: int, slack: int = 64 * 1024) -> None:
        self.app = app
        self.limit = limit + slack  # multipart framing around the file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for key, value in scope.get("headers", []):
                if key == b"content-length":
                    try:
                        too_big = int(value) > self.limit
                    except ValueError:
                        too_big = False
                    if too_big:
                        body = json.dumps({"error": {"code": "upload_too_large",
                                                     "message": f"the request body is larger than the upload "
                                                                f"limit ({self.limit} bytes)",
                                                     "node": None, "port": None, "field": None}}).encode()
                        await send({"type": "http.response.start", "status": 413,
                                    "headers": [(b"content-type", b"application/json"),
                                                (b"connection", b"close")]})
                        await send({"type": "http.response.body", "body": body})
                        return
        await self.app(scope, receive, send)

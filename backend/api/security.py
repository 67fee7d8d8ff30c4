"""The access token: when set, every HTTP request and websocket must carry it."""
from __future__ import annotations

import ipaddress
import json
import logging
import re
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "abacus_token"
MIN_TOKEN_LENGTH = 16  # off loopback; `openssl rand -hex 16` gives 32 characters


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve a non-loopback address without an access token (blank counts as none)."""
    if not is_loopback(host) and not (token or "").strip():
        raise SystemExit(f"abacus: refusing to listen on {host} without an access token: "
                         f"set ABACUS_TOKEN or --token-file PATH (only 127.0.0.1 may go without one)")


def check_token_strength(host: str, token: str | None) -> str | None:
    """Refuse a weak token (shorter than MIN_TOKEN_LENGTH, blank) off loopback; on loopback
    return a warning for it instead. ``abacus serve`` applies this on top of ``check_bind``."""
    if not token or len(token.strip()) >= MIN_TOKEN_LENGTH:
        return None
    if not is_loopback(host):
        raise SystemExit(f"abacus: refusing to listen on {host} with a weak access token: it needs at least "
                         f"{MIN_TOKEN_LENGTH} characters that are not blank (e.g. `openssl rand -hex 16`)")
    return (f"abacus: warning: the access token is shorter than {MIN_TOKEN_LENGTH} characters: "
            f"accepted on {host}, refused on any other address")


_TOKEN_IN_TEXT = re.compile(r"(?i)(token=|bearer\s+)[^&\s\"';,]+")


class RedactTokens(logging.Filter):
    """Replaces ``token=...`` (query strings, cookies), ``Bearer ...`` and the token itself with
    ``***`` in log records: uvicorn's access log prints the URL with its query string.

    The record's arguments are redacted one by one, not merged into the message: uvicorn's
    access formatter reads them by position.
    """

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token if token and len(token.strip()) >= 8 else None  # shorter: too common a word

    def redact(self, text: str) -> str:
        text = _TOKEN_IN_TEXT.sub(r"\1***", text)
        return text.replace(self.token, "***") if self.token else text

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            record.msg = str(record.msg)
        record.msg = self.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self.redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self.redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


REDACTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "websockets",
                    "websockets.server", "websockets.protocol", "abacus", "backend", "")


def redact_tokens_in_logs(token: str | None) -> RedactTokens:
    """Install RedactTokens on the server's loggers and on their handlers (a handler's filter
    also sees records propagated from child loggers). Call after uvicorn configured logging."""
    redact = RedactTokens(token)
    handlers = {logging.lastResort} if logging.lastResort is not None else set()
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        logger.addFilter(redact)
        handlers.update(logger.handlers)
    for handler in handlers:
        handler.addFilter(redact)
    return redact


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

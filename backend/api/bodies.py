"""Limits on request bodies, enforced as the bytes arrive and before any route reads them.

- Size: bytes are counted as they stream in, whether the body has a Content-Length or is
  chunked; a declared length past the limit is refused before reading, and a stream is cut
  off with a 413 as soon as it passes the limit (the connection is then closed: the rest of
  the body is never read).
- Depth: a JSON body (the bodies FastAPI parses as JSON) is read whole (within the size
  limit) and scanned for nesting without recursion; past the limit it gets a 400
  ``json_too_deep`` before any parsing, deep copy or pydantic validation could overflow.
  The body was read to its end, so the connection stays usable.

The server accepts no JSON from websocket clients (it only reads them to notice a close),
so websockets need no depth check; uvicorn bounds a websocket message's size.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Callable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ErrorDetail

_BLOCK = 1 << 20  # bytes scanned per numpy step: bounds the scan's memory
_SCAN_IN_THREAD = 1 << 20  # larger bodies are scanned off the event loop


@lru_cache(maxsize=1)
def _bracket_steps():
    import numpy as np  # imported on the first body with many brackets, not at startup

    table = np.zeros(256, dtype=np.int8)
    table[list(b"[{")] = 1
    table[list(b"]}")] = -1
    return table


def json_depth_exceeds(data: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects deeper than ``limit`` (the outermost counts 1).

    Linear in the bytes, without recursion and without parsing: drop escaped backslashes and
    quotes, so that every quote left opens or closes a string; a bracket counts when an even
    number of quotes precede it; the depth is the running sum of +1 per opener and -1 per
    closer. The loops run in C (bytes methods, numpy in blocks of ``_BLOCK`` bytes).
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # the common case: too few brackets to nest that deep
    encoding = json.detect_encoding(data)
    if encoding not in ("utf-8", "utf-8-sig"):
        # json.loads reads UTF-16 and UTF-32 too, where other characters hold quote bytes
        try:
            data = data.decode(encoding).encode("utf-8", "surrogatepass")
        except UnicodeError:
            return False  # not text: the parser refuses it
    # Inside a string every backslash starts an escape (outside one it is invalid JSON), and
    # bytes.replace pairs them left to right as a parser does.
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    import numpy as np

    steps_of = _bracket_steps()
    depth, quotes_before = 0, 0
    for start in range(0, len(text), _BLOCK):
        block = np.frombuffer(text, np.uint8, min(_BLOCK, len(text) - start), start)
        quotes = np.cumsum(block == ord('"'), dtype=np.int32)
        steps = steps_of[block]
        steps[((quotes + quotes_before) & 1).astype(bool)] = 0  # inside a string
        running = np.cumsum(steps, dtype=np.int32)
        if depth + int(running.max()) > limit:
            return True
        depth += int(running[-1])
        quotes_before = (quotes_before + int(quotes[-1])) & 1
    return False


def _is_json(scope: Scope) -> bool:
    """The bodies FastAPI reads as JSON: no content type, application/json or application/*+json."""
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))
    return True


def _error(status: int, code: str, message: str, *, close: bool) -> tuple[Message, Message]:
    body = json.dumps({"error": ErrorDetail(code=code, message=message).model_dump()}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    return ({"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """A pure ASGI middleware: the size limit on every request body, the depth limit on JSON ones."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_json_depth: int,
                 limit_for: Callable[[str], int | None] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_depth = max_json_depth
        self.limit_for = limit_for  # a larger limit for some POST routes (a weight file's upload)

    async def _too_large(self, send: Send) -> None:
        for message in _error(413, "upload_too_large",
                              f"the request body is larger than the limit ({self.max_bytes} bytes)", close=True):
            await send(message)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # a raised limit is for files: a JSON body (read whole, in memory) keeps the plain one
        if self.limit_for is not None and scope.get("method") == "POST" and not _is_json(scope):
            raised = self.limit_for(scope.get("path", ""))
            if raised is not None and raised > self.max_bytes:
                await BodyLimitMiddleware(self.app, raised, self.max_json_depth)(scope, receive, send)
                return
        has_body = False
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:  # the HTTP server refuses these itself
                    declared = 0
                if declared > self.max_bytes:
                    await self._too_large(send)
                    return
                has_body = has_body or declared > 0
            elif key == b"transfer-encoding":
                has_body = True
        if has_body and _is_json(scope):
            await self._json(scope, receive, send)
        else:
            await self._counted(scope, receive, send)

    async def _json(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                chunks.clear()
                await self._too_large(send)
                return
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        chunks.clear()
        if len(body) > _SCAN_IN_THREAD:
            too_deep = await anyio.to_thread.run_sync(json_depth_exceeds, body, self.max_json_depth)
        else:
            too_deep = json_depth_exceeds(body, self.max_json_depth)
        if too_deep:
            for message in _error(400, "json_too_deep", f"the JSON body nests deeper than the limit of "
                                                        f"{self.max_json_depth} levels", close=False):
                await send(message)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # waits for the client to leave
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        size = 0
        tripped = False
        started = False

        async def counted_receive() -> Message:
            nonlocal size, tripped
            if tripped:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.max_bytes:
                    tripped = True
                    if not started:
                        await self._too_large(send)
                    return {"type": "http.disconnect"}  # the route stops reading
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if tripped:
                return  # the 413 went out; the route's answer to a cut-off body is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not tripped:
                raise

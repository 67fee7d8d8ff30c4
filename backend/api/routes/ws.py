"""Live events over websockets.

/api/ws/runs/{run_id}?after=SEQ sends every stored event with seq > after, then the live
ones, with no gap and no duplicate: it subscribes first, then reads the backlog from the
database, then drops live events it has already sent. The socket closes (1000, reason
"run finished" / "run failed" / "run cancelled") once the run is over: right after the
backlog when it already was (whatever ``after`` is, also beyond the last seq), else at its
terminal event (sent only when it is after ``after``). A malformed ``after`` closes with
4400, an unknown run or project with 4404; each after an error message naming why.

/api/ws/projects/{project_id} sends the live events of every run of the project
(run.queued included); a client that reconnects replays a run with the run stream.

node.progress events may be coalesced on the live part (only the latest per node within
``progress_coalesce_s``); every other event is sent as it is. A message holds one event (a
JSON object) or several in order (a JSON array): the backlog and each burst of live events
travel in arrays of up to 500.
"""
from __future__ import annotations

import asyncio
import re
import time
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from backend.engine.events import TERMINAL
from backend.store.events import ACTIVE

from ..broadcast import Published, published
from ..deps import Services

router = APIRouter()
NOT_FOUND = 4404
BAD_REQUEST = 4400
MAX_SEQ = 2**63 - 1  # the largest sequence number a database column holds


def _services(ws: WebSocket) -> Services:
    return ws.app.state.services


async def _refuse(ws: WebSocket, message: str, code: int = NOT_FOUND, error: str = "not_found",
                  field: str | None = None) -> None:
    """Accept, say why in a typed error message, then close with ``code`` (a handshake refusal
    would reach the client as an empty 403)."""
    await ws.accept()
    await ws.send_json({"type": "error", "error": {"code": error, "message": message, "node": None,
                                                   "port": None, "field": field}})
    await ws.close(code=code, reason=message.encode()[:120].decode(errors="ignore"))  # at most 123 bytes


def _parse_after(text: str) -> int | None:
    """``after`` as a sequence number: decimal digits only, at most MAX_SEQ (else None)."""
    if not re.fullmatch(r"[0-9]{1,19}", text):
        return None
    value = int(text)
    return value if value <= MAX_SEQ else None


def _end_reason(event_type: str) -> str:
    return "run " + event_type.removeprefix("run.")  # run finished / run failed / run cancelled


class _Sender:
    """Sends events in order, holding back node.progress for a short window.

    Only node.progress is ever held (the latest per node); any other event first flushes
    what is held, then goes out at once, so it is never later than it arrived. Events that
    go out together travel in one websocket message, a JSON array: one frame and one socket
    write per burst instead of per event (at thousands of events per second the per-message
    cost decided the latency). A message with a single event is that event's object.
    """

    MAX_BATCH = 500

    def __init__(self, ws: WebSocket, window: float) -> None:
        self.ws = ws
        self.window = window
        self.pending: dict[tuple[str, str], Published] = {}
        self.deadline: float | None = None

    async def send_many(self, events: list[Published]) -> None:
        out: list[str] = []
        for item in events:
            event = item.event
            if self.window > 0 and event.type == "node.progress":
                self.pending[(event.run_id, event.node)] = item
                if self.deadline is None:
                    self.deadline = time.monotonic() + self.window
                continue
            out.extend(self._take_held())
            out.append(item.text)
        await self.write(out)

    async def flush(self) -> None:
        await self.write(self._take_held())

    def _take_held(self) -> list[str]:
        held = sorted(self.pending.values(), key=lambda p: (p.event.run_id, p.event.seq))
        self.pending.clear()
        self.deadline = None
        return [p.text for p in held]

    async def write(self, texts: list[str]) -> None:
        for start in range(0, len(texts), self.MAX_BATCH):
            chunk = texts[start:start + self.MAX_BATCH]
            await self.ws.send_text(chunk[0] if len(chunk) == 1 else "[" + ",".join(chunk) + "]")

    def timeout(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


async def _watch_disconnect(ws: WebSocket) -> None:
    try:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass
    except Exception:
        pass


async def _pump(ws: WebSocket, queue: asyncio.Queue, sender: _Sender, last_seq: int | None,
                stop_after_terminal: bool) -> None:
    """Forward live events until the client leaves (or the run ends)."""
    watcher = asyncio.create_task(_watch_disconnect(ws))
    get: asyncio.Task | None = None
    try:
        while True:
            if get is None:
                get = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({get, watcher}, timeout=sender.timeout(),
                                         return_when=asyncio.FIRST_COMPLETED)
            if watcher in done:
                return
            if get in done:
                # take everything already queued too: one wait per burst, not per event
                events, get = [get.result()], None
                while True:
                    try:
                        events.append(queue.get_nowait())
                    except asyncio.QueueEmpty:
                        break
                burst: list[Published] = []
                terminal: str | None = None
                for item in events:
                    if stop_after_terminal and item.event.type in TERMINAL:
                        terminal = item.event.type  # ends the stream even when not sent again
                    if last_seq is not None:
                        if item.event.seq <= last_seq:
                            if terminal:
                                break
                            continue  # already sent from the backlog (or before ``after``)
                        last_seq = item.event.seq
                    burst.append(item)
                    if terminal:
                        break
                await sender.send_many(burst)  # held progress goes out before any other event
                if terminal:
                    await sender.flush()
                    await ws.close(code=1000, reason=_end_reason(terminal))
                    return
            if sender.timeout() == 0:  # the coalescing window ended (also under a steady stream)
                await sender.flush()
    finally:
        watcher.cancel()
        if get is not None:
            get.cancel()


@router.websocket("/ws/runs/{run_id}")
async def run_stream(ws: WebSocket, run_id: str, after: str = "0") -> None:
    services = _services(ws)
    since = _parse_after(after)
    if since is None:
        await _refuse(ws, f"after must be a sequence number (an integer from 0), got '{after[:40]}'",
                      code=BAD_REQUEST, error="invalid_after", field="after")
        return
    valid = re.fullmatch(r"[0-9a-f]{1,32}", run_id) is not None
    # subscribe before reading the run: an event stored after the read reaches the queue
    queue = services.broadcaster.subscribe(services.broadcaster.run_topic(run_id)) if valid else None
    try:
        run = await run_in_threadpool(services.runs.get, run_id) if valid else None
        if run is None:
            await _refuse(ws, f"no run with id '{run_id[:64]}'")
            return
        over = run.status not in ACTIVE  # its terminal event is stored (same transaction as the status)
        await ws.accept()
        backlog = await run_in_threadpool(services.events.after, run_id, since)
        last_seq = since
        sender = _Sender(ws, services.settings.progress_coalesce_s)
        ended = next((i for i, event in enumerate(backlog) if event.type in TERMINAL), None)
        if ended is not None:
            backlog = backlog[:ended + 1]
        await sender.write([p.text for p in published(backlog)])
        if ended is not None or over:
            # over with no terminal event in the backlog: the client has it (its seq <= after)
            reason = _end_reason(backlog[ended].type) if ended is not None else f"run {run.status}"
            await ws.close(code=1000, reason=reason)
            return
        if backlog:
            last_seq = backlog[-1].seq
        await _pump(ws, queue, sender, last_seq, stop_after_terminal=True)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if queue is not None:
            services.broadcaster.unsubscribe(queue)


@router.websocket("/ws/projects/{project_id}")
async def project_stream(ws: WebSocket, project_id: str) -> None:
    services = _services(ws)
    number = int(project_id) if re.fullmatch(r"[0-9]{1,10}", project_id) else 0
    project = await run_in_threadpool(services.projects.get, number) if 0 < number < 2**31 else None
    if project is None:
        await _refuse(ws, f"no project with id {project_id[:64]}")
        return
    queue = services.broadcaster.subscribe(services.broadcaster.project_topic(number))
    try:
        await ws.accept()
        sender = _Sender(ws, services.settings.progress_coalesce_s)
        await _pump(ws, queue, sender, None, stop_after_terminal=False)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        services.broadcaster.unsubscribe(queue)

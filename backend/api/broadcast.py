"""In-process fan-out of stored events to websocket subscribers.

``publish`` may be called from any thread (the dispatcher's); delivery happens on the
server's event loop in publish order, so each subscriber sees events in sequence order.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any

from backend.engine import events as ev


class Broadcaster:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._topics: dict[str, set[asyncio.Queue]] = {}
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop

    @staticmethod
    def run_topic(run_id: str) -> str:
        return f"run:{run_id}"

    @staticmethod
    def project_topic(project_id: int) -> str:
        return f"project:{project_id}"

    def subscribe(self, *topics: str) -> asyncio.Queue:
        """Call on the event loop; events published from now on land in the returned queue."""
        q: asyncio.Queue = asyncio.Queue()
        with self._lock:
            for topic in topics:
                self._topics.setdefault(topic, set()).add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        with self._lock:
            for topic in list(self._topics):
                self._topics[topic].discard(q)
                if not self._topics[topic]:
                    del self._topics[topic]

    def publish(self, event: ev.Event, project_id: int | None) -> None:
        self.publish_many([event], project_id)

    def publish_many(self, events: list[ev.Event], project_id: int | None) -> None:
        """Publish stored events, in order, with one wake-up of the event loop for all of them."""
        loop = self._loop
        if loop is None or loop.is_closed() or not events:
            return
        try:
            loop.call_soon_threadsafe(self._deliver, project_id, [Published(e) for e in events])
        except RuntimeError:  # the loop closed while shutting down
            pass

    def _deliver(self, project_id: int | None, events: list["Published"]) -> None:
        with self._lock:
            project = set(self._topics.get(self.project_topic(project_id), ())) if project_id is not None else set()
            runs: dict[Any, set[asyncio.Queue]] = {}
            for event in events:
                run_id = event.event.run_id
                if run_id not in runs:
                    runs[run_id] = project | self._topics.get(self.run_topic(str(run_id)), set())
                for q in runs[run_id]:
                    q.put_nowait(event)

    def subscribers(self) -> int:
        with self._lock:
            return len(set().union(*self._topics.values())) if self._topics else 0


class Published:
    """A stored event as published: its JSON text is made once, however many sockets send it."""

    __slots__ = ("event", "_text")

    def __init__(self, event: ev.Event) -> None:
        self.event = event
        self._text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.event.model_dump_json()   # NaN and infinities become null
        return self._text


def published(events: list[ev.Event]) -> list[Published]:
    return [Published(e) for e in events]

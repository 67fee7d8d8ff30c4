"""In-process fan-out of stored events to websocket subscribers.

``publish`` may be called from any thread (the dispatcher's); delivery happens on the
server's event loop in publish order, so each subscriber sees events in sequence order.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any


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

    def publish(self, event: dict[str, Any], project_id: int | None) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        topics = [self.run_topic(str(event.get("run_id")))]
        if project_id is not None:
            topics.append(self.project_topic(project_id))
        try:
            loop.call_soon_threadsafe(self._deliver, topics, event)
        except RuntimeError:  # the loop closed while shutting down
            pass

    def _deliver(self, topics: list[str], event: dict[str, Any]) -> None:
        with self._lock:
            targets = set().union(*(self._topics.get(t, set()) for t in topics))
        for q in targets:
            q.put_nowait(event)

    def subscribers(self) -> int:
        with self._lock:
            return len(set().union(*self._topics.values())) if self._topics else 0

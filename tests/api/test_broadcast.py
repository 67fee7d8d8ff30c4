"""The fan-out of stored events: one wake-up per batch, order kept, JSON made once."""
from __future__ import annotations

import asyncio
import json

from backend.api.broadcast import Broadcaster, event_text


def test_publish_many_delivers_in_order_once_per_subscriber():
    async def main():
        b = Broadcaster()
        b.bind(asyncio.get_running_loop())
        by_run = b.subscribe(b.run_topic("r1"))
        by_project = b.subscribe(b.project_topic(3))
        both = b.subscribe(b.run_topic("r1"), b.project_topic(3))
        other = b.subscribe(b.run_topic("r2"))
        events = [{"run_id": "r1", "seq": i, "type": "node.progress", "ts": 1.0, "node": "é"} for i in range(1, 6)]
        b.publish_many(events, 3)
        b.publish({"run_id": "r1", "seq": 6, "type": "run.finished", "ts": 2.0}, 3)
        await asyncio.sleep(0.05)
        got = {name: [q.get_nowait() for _ in range(q.qsize())]
               for name, q in (("run", by_run), ("project", by_project), ("both", both), ("other", other))}
        assert [e["seq"] for e in got["run"]] == [1, 2, 3, 4, 5, 6]
        assert got["project"] == got["run"] and got["both"] == got["run"] and got["other"] == []
        first = got["run"][0]
        assert first == events[0] and event_text(first) is event_text(got["both"][0])
        assert event_text(first) == json.dumps(events[0], separators=(",", ":"), ensure_ascii=False)
        assert json.loads(event_text({"a": 1})) == {"a": 1}

    asyncio.run(main())

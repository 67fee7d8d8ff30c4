"""The fan-out of stored events: one wake-up per batch, order kept, JSON made once."""
from __future__ import annotations

import asyncio
import json

from backend.api.broadcast import Broadcaster
from backend.engine import events as ev


def test_publish_many_delivers_in_order_once_per_subscriber():
    async def main():
        b = Broadcaster()
        b.bind(asyncio.get_running_loop())
        by_run = b.subscribe(b.run_topic("r1"))
        by_project = b.subscribe(b.project_topic(3))
        both = b.subscribe(b.run_topic("r1"), b.project_topic(3))
        other = b.subscribe(b.run_topic("r2"))
        events = [ev.NodeProgress(run_id="r1", seq=i, ts=1.0, node="é", step=i) for i in range(1, 6)]
        b.publish_many(events, 3)
        b.publish(ev.RunFinished(run_id="r1", seq=6, ts=2.0, seconds=float("nan")), 3)
        await asyncio.sleep(0.05)
        got = {name: [q.get_nowait() for _ in range(q.qsize())]
               for name, q in (("run", by_run), ("project", by_project), ("both", both), ("other", other))}
        assert [p.event.seq for p in got["run"]] == [1, 2, 3, 4, 5, 6]
        assert got["project"] == got["run"] and got["both"] == got["run"] and got["other"] == []
        first = got["run"][0]
        assert first.event is events[0] and first.text is got["both"][0].text   # the JSON is made once
        assert json.loads(first.text) == events[0].model_dump(mode="json")
        assert json.loads(got["run"][-1].text)["seconds"] is None   # NaN is not JSON

    asyncio.run(main())

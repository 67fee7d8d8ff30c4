"""The recorded fixtures the editor's tests share with these (tests/fixtures/record.py makes them):
they must still be what the code produces, and the server's reducer must reproduce the summaries
recorded with the events (the editor's reduceRun is checked against the same file in vitest)."""
from __future__ import annotations

import json

import pytest

from backend.engine import events as ev
from backend.engine.reduce import reduce_run
from tests.fixtures.record import CATALOG, EVENTS, catalog_json

STALE = "re-record them: .venv/bin/python tests/fixtures/record.py"


def test_the_catalog_fixture_is_what_the_api_serves():
    assert json.loads(CATALOG.read_text()) == catalog_json(), f"{CATALOG.name} is stale: {STALE}"


@pytest.mark.parametrize("index", [0, 1])
def test_the_reducer_reproduces_each_recorded_summary(index):
    run = json.loads(EVENTS.read_text())["runs"][index]
    events = ev.EventsAdapter.validate_python(run["events"])   # the recorded events still fit the models
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    summary = reduce_run(run["run_id"], events, run["summary"]["status"])
    assert summary.model_dump(mode="json") == run["summary"], f"the recorded summary differs: {STALE}"


def test_the_recorded_runs_cover_what_the_editor_shows():
    first, second = json.loads(EVENTS.read_text())["runs"]
    nodes = first["summary"]["nodes"]
    assert nodes["train"]["summary"]["model"]["kind"] == "model" and len(first["summary"]["metrics"]["train"]) == 2
    assert nodes["evaluate"]["summary"]["report"]["kind"] == "evaluation"
    assert any(e["type"] == "node.log" and e["cache"] for e in first["events"])
    # the second run serves the fine-tune step (the first trainer's model, unfrozen) from the cache
    assert second["summary"]["cached"] == ["format", "finetune"]
    assert second["summary"]["nodes"]["finetune"]["state"] == "cached"
    assert second["summary"]["nodes"]["finetune"]["summary"]["model"]["phase"] == "finetune"
    assert len(second["summary"]["metrics"]["train_finetuned"]) == 2

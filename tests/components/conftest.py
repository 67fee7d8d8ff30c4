"""Runs the way the studio makes them, for tests of what reaches a component."""
from pathlib import Path
from typing import Callable

import pytest

from backend.settings import Settings
from tests.conftest import of_type

StudioRun = Callable[..., tuple[str, list[dict]]]


@pytest.fixture
def studio_run() -> StudioRun:
    """``studio_run(cache_dir, graph, targets, mode="to", settings=None)``: the run service
    prepares the run with the run settings of ``settings`` (the environment's by default,
    read when called), the prepared run crosses as JSON, and the worker's code executes it
    in this process. Returns the status and the events as the worker sends them."""
    import components
    from backend.engine import MemoryCache
    from backend.runs import RunService
    from backend.store.artifacts import FileResultStore
    from backend.worker.execution import execute_prepared

    def run(cache_dir: Path, graph: dict, targets: list[str], mode: str = "to",
            settings: Settings | None = None) -> tuple[str, list[dict]]:
        settings = settings or Settings(home=cache_dir)
        store = FileResultStore(cache_dir)
        service = RunService(components.registry, store, worker_settings=settings.run_settings())
        prepared = service.prepare(graph, targets, mode, run_id="r1")
        events: list[dict] = []
        status = execute_prepared(prepared.model_dump(mode="json"), store, MemoryCache(), events.append,
                                  lambda: False)
        return status, events

    return run


@pytest.fixture
def same_metrics() -> Callable[..., None]:
    """``same_metrics(a, b, epochs, **tolerance)``: the events of runs ``a`` and ``b`` hold
    ``epochs`` epochs of metrics for both training phases (``train``, ``train_finetuned``), each
    metric the same within ``tolerance`` (``pytest.approx``'s ``rel`` and ``abs``): how a cached
    path is held to the plain one."""

    def check(a_events: list[dict], b_events: list[dict], epochs: int, **tolerance: float) -> None:
        for node in ("train", "train_finetuned"):
            a = [m["metrics"] for m in of_type(a_events, "node.metrics", node)]
            b = [m["metrics"] for m in of_type(b_events, "node.metrics", node)]
            assert len(a) == len(b) == epochs
            for x, y in zip(a, b):
                for k in x:
                    assert x[k] == pytest.approx(y[k], **tolerance), (node, k)

    return check

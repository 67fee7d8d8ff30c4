"""Executing a prepared run where the worker is (its process, or a Ray actor)."""
from __future__ import annotations

from typing import Any, Callable

from backend.engine import Executor, Graph, MemoryCache, RunSettings, validate
from backend.engine import events as ev
from backend.runs import PreparedRun

# node.progress of one node at most every 50 ms (first and last step of a phase always):
# plenty for a progress bar, and every event is stored and sent by the server.
PROGRESS_INTERVAL_S = 0.05


def execute_prepared(prepared: PreparedRun | dict[str, Any], store: Any, memory: MemoryCache,
                     send: Callable[[dict[str, Any]], None], cancelled: Callable[[], bool],
                     worker: ev.WorkerInfo | None = None, threads: int | None = None) -> str:
    """Run the plan the run service made; each event goes to ``send`` as a numbered dict.

    The graph is validated again only to build the components' params (it was checked
    when the run was prepared); returns 'finished', 'failed' or 'cancelled'. ``threads``:
    the CPUs this worker has for the run (a Ray actor's reservation), instead of the
    studio's setting.
    """
    import components

    run = PreparedRun.model_validate(prepared)
    seq = 0

    def emit(event: Any) -> None:
        nonlocal seq
        seq += 1
        event.run_id, event.seq = run.run_id, seq
        send(event.model_dump(mode="json"))

    graph = Graph.model_validate(run.graph)
    validation = validate(graph, components.registry)
    if not validation.ok:  # a component changed under a queued run
        first = validation.issues[0]
        emit(ev.RunFailed(code="invalid_graph", node=first.node,
                          message="; ".join(i.message for i in validation.issues)))
        return "failed"
    executor = Executor(graph, validation, components.registry, store, emit, memory=memory, cancelled=cancelled,
                        settings=_settings_here(run, threads), worker=worker)
    return executor.run(run.plan())


def _settings_here(run: PreparedRun, threads: int | None) -> RunSettings:
    """The run's settings with what only this worker knows: its progress pace and, when
    given, the threads it may use."""
    here: dict[str, Any] = {"progress_interval_s": PROGRESS_INTERVAL_S}
    if threads:
        here["threads"] = threads
    return run.settings.model_copy(update=here)

"""The run service: every run is prepared here, whoever asks (API, CLI, benchmarks).

Preparing a run means: the graph version it belongs to, the data-root policy (paths made
absolute, paths outside the roots refused), validation, the plan with its cache keys, and
which of the plan's results the server's store already holds (the inputs a worker on
another machine must be sent). A run whose every target is already stored is answered
from the store without any worker.

Pure Python and torch-free: the server imports it.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from backend.engine import Graph, Registry, RunSettings, Validation, make_plan, validate
from backend.engine import events as ev
from backend.engine.plan import Plan, split_cached
from backend.engine.why import NodeWhy

from .paths import resolve_data_paths
from .why import covered_from_store, plan_why


class PreparedRun(BaseModel):
    """A run ready for a worker: what to execute, in which order, under which keys.

    ``stored`` are the plan's nodes whose results the server's store holds: a worker that
    does not share that store receives them before it starts.
    """

    run_id: str
    graph: dict[str, Any]
    targets: list[str]
    mode: Literal["node", "to", "all"] = "to"
    order: list[str] = Field(default_factory=list)
    keys: dict[str, str] = Field(default_factory=dict)
    force: list[str] = Field(default_factory=list)
    stored: dict[str, str] = Field(default_factory=dict, description="node id -> key held by the server's store")
    execute: list[str] = Field(default_factory=list,
                               description="what a worker must execute, the server's store serving the rest")
    graph_version: int | None = None
    settings: RunSettings = Field(default_factory=RunSettings, description="what the run's components are told")
    why: dict[str, NodeWhy] = Field(default_factory=dict, description="node id -> why it runs or comes from the "
                                                                      "cache, as the server expects it")

    def plan(self) -> Plan:
        return Plan(targets=list(self.targets), mode=self.mode, order=list(self.order), keys=dict(self.keys),
                    force=set(self.force), why=dict(self.why))


class RunRejected(Exception):
    """The graph cannot run; ``issues`` lists every reason (JSON dicts, as the API sends them)."""

    def __init__(self, issues: list[dict[str, Any]], prefix: str = "") -> None:
        super().__init__(prefix + issues[0]["message"])
        self.issues = issues
        self.prefix = prefix


def issues_json(validation: Validation, path_issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i.model_dump() for i in validation.issues] + path_issues


class RunService:
    """Prepares runs. ``data_roots`` None (the command line) trusts every path, made absolute."""

    def __init__(self, registry: Registry, store: Any, data_roots: list[Path] | None = None,
                 worker_settings: RunSettings | None = None) -> None:
        self.registry = registry
        self.store = store            # FileResultStore (has, summary) of the server
        self.data_roots = data_roots
        # what every run's components are told (``Settings.run_settings()``)
        self.run_settings = worker_settings or RunSettings()
        # a long-lived worker keeps results in memory between runs (the studio's): why.py expects it
        # to still hold the in-memory results earlier runs made; the command line's worker holds none
        self.worker_memory = False

    # -- checking -----------------------------------------------------------------------
    def check(self, graph: Graph) -> tuple[Graph, Validation, list[dict[str, Any]]]:
        """(graph with absolute data paths, the engine's validation, path issues)."""
        resolved, path_issues = resolve_data_paths(graph, self.data_roots, self.registry)
        return resolved, validate(resolved, self.registry), path_issues

    def settings_for_run(self) -> RunSettings:
        """What a run's components are told: the machine's settings and the data roots every
        file they read must lie in (None, the command line, trusts every path)."""
        roots = None if self.data_roots is None else tuple(str(r) for r in self.data_roots)
        return self.run_settings.model_copy(update={"data_roots": roots})

    @staticmethod
    def graph_for_project(latest: Any, sent: Graph | None, graph_json: Any) -> tuple[Graph, int | None]:
        """The graph a project's run uses (the one sent, else the latest saved) and its version:
        a sent graph equal to the latest saved version counts as that version."""
        if sent is None:
            if latest is None:
                raise RunRejected([{"code": "no_graph", "node": None, "port": None, "param": "graph", "edge": None,
                                    "message": "the project has no saved graph"}])
            return Graph.model_validate(latest.graph), latest.version
        same = latest is not None and latest.graph == graph_json(sent)
        return sent, (latest.version if same else None)

    # -- preparing ----------------------------------------------------------------------
    def prepare(self, graph: Graph | dict[str, Any], targets: list[str], mode: str = "to", *,
                run_id: str = "", graph_version: int | None = None, resume: bool = False,
                scope: str | None = None) -> PreparedRun:
        """Check, validate and plan; raises RunRejected with every issue. ``resume``: trainers
        continue from their checkpoints (a resumed run, ``abacus run --resume``); ``scope``: the
        project (or graph file) whose earlier results say why a node runs (``why.py``)."""
        if isinstance(graph, dict):
            graph = Graph.model_validate(graph)
        if mode != "all" and not targets:
            raise RunRejected([{"code": "missing_targets", "node": None, "port": None, "param": "targets",
                                "edge": None, "message": f"mode '{mode}' needs at least one target node"}])
        try:
            resolved, validation, path_issues = self.check(graph)
        except Exception as err:  # an engine bug must not take the caller down: report it on the graph
            raise RunRejected([{"code": "validation_failed", "node": None, "port": None, "param": None, "edge": None,
                                "message": f"the graph could not be validated: {type(err).__name__}: {err}"}])
        issues = issues_json(validation, path_issues)
        if issues:
            raise RunRejected(issues, "the graph has issues: ")
        plan = make_plan(resolved, validation, self.registry, list(targets), mode)  # type: ignore[arg-type]
        if isinstance(plan, list):
            raise RunRejected([{**i.model_dump(), "param": None} for i in plan])
        stored = {nid: plan.keys[nid] for nid in plan.order if self.store.has(plan.keys[nid])}
        execute, _ = split_cached(plan, validation.inputs, lambda nid: nid in stored)   # the executor's rule
        why = plan_why(plan, validation.inputs, self.registry, {n.id: n.type for n in resolved.nodes}, self.store,
                       scope, resume=resume, memory=self.worker_memory, stored=set(stored))
        return PreparedRun(run_id=run_id, graph=resolved.model_dump(mode="json"), targets=plan.targets,
                           mode=plan.mode, order=plan.order, keys=plan.keys, force=sorted(plan.force),
                           stored=stored, execute=execute, graph_version=graph_version,
                           settings=self.settings_for_run().model_copy(update={"resume": resume}), why=why)

    # -- answering from the store -------------------------------------------------------
    def from_store(self, prepared: PreparedRun) -> list[ev.Event] | None:
        """The whole run's events when every target is stored with its summary; None otherwise.

        Such a run touches no worker: a cache hit costs a few file reads on the server.
        """
        if prepared.execute:
            return None
        started = time.time()
        # nothing executes, so what the executor would report cached is the targets themselves
        cached = [nid for nid in prepared.order if nid in prepared.targets]
        summaries = {}
        for nid in cached:
            summary = self.store.summary(prepared.keys[nid])
            if summary is None:
                return None  # stored before summaries were kept: the worker reads it
            summaries[nid] = summary
        # the nodes before the targets are up to date too: shown cached, with the run that made them
        covered = [nid for nid in covered_from_store(prepared.why) if nid not in cached]
        why = {nid: item for nid, item in prepared.why.items() if nid in cached or nid in covered}
        out: list[ev.Event] = [ev.RunStarted(plan=[], cached=cached, why=why,
                                             worker=ev.WorkerInfo(kind="server", note="all cached"))]
        out += [ev.NodeCached(node=nid, key=prepared.keys[nid], summary=self.store.summary(prepared.keys[nid]) or {})
                for nid in covered]
        out += [ev.NodeCached(node=nid, key=prepared.keys[nid], summary=summaries[nid]) for nid in cached]
        out.append(ev.RunFinished(seconds=round(time.time() - started, 3)))
        return out

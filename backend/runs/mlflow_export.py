"""Each finished trainer of a run, logged to MLflow: the tracking tool teams already use.

Optional: set ``ABACUS_MLFLOW_TRACKING_URI`` (``abacus serve --mlflow URI``, ``abacus run --mlflow
URI``), e.g. ``file:///path/mlruns`` (a local file store: no server) or ``http://host:5000``. Every
trainer node that finishes becomes one MLflow run, in an experiment named after the project (the
graph file on the command line), tagged with the Abacus run and node: its own parameters and those
of every node upstream (``node.param``), its curves with ``step`` = epoch (the run's own
node.metrics), and its model file as the artifact ``model/``.

It runs beside the run, never in it: the server and the command line watch the event stream
(``MlflowExport.observe``), so neither the worker nor torch is involved and a Ray run is logged the
same way. A failure never breaks a run: it becomes a warning line (``mlflow_export_failed``) of the
trainer node. mlflow (mlflow-skinny) is imported only when an export is set.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from backend.engine import events as ev
from backend.engine.graph_diff import Defaults
from backend.engine.summaries import ModelSummary

log = logging.getLogger("abacus.mlflow")
MAX_PARAM = 6000   # MLflow's longest parameter value
_import_lock = threading.Lock()


def _mlflow() -> Any:
    """Import the client once, without telemetry (nothing may leave the machine) and with the file
    store allowed (MLflow 3 refuses ``./mlruns`` unless told; the issue asks for it)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    with _import_lock:
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.tracking import MlflowClient
    return MlflowClient, Metric, Param, RunTag


def warm_up() -> None:
    """Import mlflow in the background (seconds), so the first export does not hold the run up."""
    def load() -> None:
        try:
            _mlflow()
        except Exception:   # reported by the export itself
            pass
    threading.Thread(target=load, name="mlflow-import", daemon=True).start()


def shown_uri(uri: str) -> str:
    """The tracking URI without a password (``http://user:pw@host`` -> ``http://host``)."""
    parsed = urlparse(uri)
    if parsed.password is None and parsed.username is None:
        return uri
    return parsed._replace(netloc=parsed.hostname + (f":{parsed.port}" if parsed.port else "")).geturl()


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text[:MAX_PARAM]


def _key(text: str) -> str:
    """MLflow keys take letters, digits, ``_ - . / :`` and spaces."""
    return "".join(c if c.isalnum() or c in "_-./: " else "_" for c in text)[:250]


def _nodes(graph: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {n["id"]: n for n in graph.get("nodes", []) if isinstance(n, Mapping) and isinstance(n.get("id"), str)}


def upstream(graph: Mapping[str, Any], node: str) -> list[str]:
    """Every node ``node`` reads from, directly or not, in graph order."""
    parents: dict[str, set[str]] = {}
    for e in graph.get("edges", []):
        if isinstance(e, Mapping):
            parents.setdefault(str(e.get("target")), set()).add(str(e.get("source")))
    seen: set[str] = set()
    todo = [node]
    while todo:
        for p in parents.get(todo.pop(), ()):
            if p not in seen and p != node:
                seen.add(p)
                todo.append(p)
    return [nid for nid in _nodes(graph) if nid in seen]


def trainer_params(graph: Mapping[str, Any], node: str, defaults: Defaults | None = None) -> dict[str, str]:
    """The trainer's own parameters (``epochs``) and those of every node upstream of it
    (``optimizer.learning_rate``, ``vgg16.weights``), defaults filled in where known."""
    nodes = _nodes(graph)

    def params(nid: str) -> dict[str, Any]:
        spec = nodes.get(nid) or {}
        known: Mapping[str, Any] = {}
        if defaults is not None and isinstance(spec.get("type"), str):
            try:
                known = defaults(spec["type"]) or {}
            except Exception:
                known = {}
        own = spec.get("params") if isinstance(spec.get("params"), Mapping) else {}
        return {**known, **own}

    out = {_key(name): _value(v) for name, v in params(node).items()}
    for nid in upstream(graph, node):
        out.update({_key(f"{nid}.{name}"): _value(v) for name, v in params(nid).items()})
    out["component"] = str((nodes.get(node) or {}).get("type", ""))
    return out


class MlflowExport:
    """Watches one run's events; ``observe`` returns the lines to add after a trainer's export."""

    def __init__(self, uri: str, experiment: str, run_id: str, graph: Mapping[str, Any], *,
                 defaults: Defaults | None = None, tags: Mapping[str, str] | None = None) -> None:
        self.uri = uri
        self.experiment = experiment.strip() or "abacus"
        self.run_id = run_id
        self.graph = graph
        self.defaults = defaults
        self.tags = dict(tags or {})
        self.curves: dict[str, dict[int, dict[str, float | None]]] = {}
        self.exported: dict[str, str] = {}   # node -> MLflow run id

    @staticmethod
    def wanted(event: ev.Event) -> bool:
        """An event that makes an export: a trainer that finished with a model (not one from the cache)."""
        return isinstance(event, ev.NodeFinished) and any(isinstance(s, ModelSummary) for s in event.summary.values())

    def observe(self, event: ev.Event) -> list[ev.NodeLog]:
        if isinstance(event, ev.NodeMetrics):
            self.curves.setdefault(event.node, {})[event.epoch] = dict(event.metrics)
            return []
        if not self.wanted(event):
            return []
        model = next(s for s in event.summary.values() if isinstance(s, ModelSummary))
        if not model.model_file and not model.history and event.node not in self.curves:
            return []   # a model that was not trained here (FineTune's: what the next trainer fine-tunes)
        try:
            mlflow_run = self.export(event.node, model)
        except Exception as err:
            log.warning("mlflow export of %s (run %s) failed: %s", event.node, self.run_id, err)
            message = f"{type(err).__name__}: {err}"[:500]
            return [ev.NodeLog(node=event.node, level="warning", code="mlflow_export_failed",
                               message=f"could not log this trainer to MLflow at {shown_uri(self.uri)}: {message}",
                               params={"uri": shown_uri(self.uri), "error": message})]
        self.exported[event.node] = mlflow_run
        return [ev.NodeLog(node=event.node, code="mlflow_exported",
                           message=f"logged to MLflow at {shown_uri(self.uri)}: experiment '{self.experiment}', "
                                   f"run {mlflow_run}",
                           params={"uri": shown_uri(self.uri), "experiment": self.experiment, "run": mlflow_run})]

    def curve(self, node: str, model: ModelSummary) -> list[tuple[int, dict[str, float | None]]]:
        """The curve the run showed (its node.metrics); the model's history when none came."""
        seen = self.curves.get(node)
        if seen:
            return sorted(seen.items())
        return [(i, h.model_dump(exclude_unset=True)) for i, h in enumerate(model.history, 1)]

    def export(self, node: str, model: ModelSummary) -> str:
        client_cls, Metric, Param, RunTag = _mlflow()
        client = client_cls(tracking_uri=self.uri)
        experiment = client.get_experiment_by_name(self.experiment)
        if experiment is None:
            try:
                experiment_id = client.create_experiment(self.experiment, tags={"abacus": "true"})
            except Exception:   # another run created it meanwhile
                experiment = client.get_experiment_by_name(self.experiment)
                if experiment is None:
                    raise
                experiment_id = experiment.experiment_id
        else:
            experiment_id = experiment.experiment_id
        tags = {"abacus.run_id": self.run_id, "abacus.node": node, "abacus.phase": model.phase,
                "abacus.best_epoch": str(model.best_epoch or ""), **self.tags}
        run = client.create_run(experiment_id, run_name=f"{node} · {self.run_id}", tags=tags)
        mlflow_run = run.info.run_id
        try:
            params = [Param(k, v) for k, v in trainer_params(self.graph, node, self.defaults).items()]
            metrics = [Metric(_key(name), float(value), 0, epoch)
                       for epoch, values in self.curve(node, model) for name, value in values.items()
                       if value is not None]
            if model.best is not None and model.best_epoch is not None:
                metrics += [Metric(_key(f"best_{name}"), float(value), 0, model.best_epoch)
                            for name, value in model.best.model_dump(exclude_none=True).items()]
            for i in range(0, len(params), 100):   # MLflow takes at most 100 params...
                client.log_batch(mlflow_run, params=params[i:i + 100])
            for i in range(0, len(metrics), 1000):   # ...and 1,000 metrics a batch
                client.log_batch(mlflow_run, metrics=metrics[i:i + 1000])
            if model.model_file:
                path = Path(model.model_file)
                if not path.is_file():
                    raise FileNotFoundError(f"the model file {path} is not on this machine")
                client.log_artifact(mlflow_run, str(path), "model")
        except Exception:
            with contextlib.suppress(Exception):
                client.set_terminated(mlflow_run, "FAILED")
            raise
        client.set_terminated(mlflow_run, "FINISHED")
        return mlflow_run

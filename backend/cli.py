"""The ``abacus`` command: validate, run, predict, inspect and export from the command line."""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from backend.engine import Graph, validate
from backend.engine import events as ev
from backend.engine.reduce import RunReducer
from backend.engine.templates import find_template


def _load_graph(ref: str) -> Graph:
    path = Path(ref)
    if not path.exists():
        template = find_template(ref)
        if template is None:
            raise SystemExit(f"abacus: no graph file or template named '{ref}'")
        return Graph.model_validate(template["graph"])
    try:
        return Graph.model_validate_json(path.read_text(encoding="utf-8"))
    except Exception as err:  # a malformed document names what is wrong and where
        raise SystemExit(f"abacus: {path} is not a valid graph document: {err}") from None


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _apply_sets(graph: Graph, sets: list[str]) -> None:
    for item in sets:
        target, sep, value = item.partition("=")
        node_id, dot, param = target.partition(".")
        if not sep or not dot or not param:
            raise SystemExit(f"abacus: --set expects NODE.PARAM=VALUE, got '{item}'")
        if graph.node(node_id) is None:
            raise SystemExit(f"abacus: --set {item}: no node '{node_id}' in the graph")
        graph.set_param(node_id, param, _parse_value(value))  # the run service makes paths absolute


def _print_issues(validation) -> None:
    for node_id, issues in validation.issues_by_node().items():
        print(f"{node_id or '(graph)'}:", file=sys.stderr)
        for issue in issues:
            where = f" [{issue.port or issue.param}]" if (issue.port or issue.param) else ""
            print(f"  {issue.code}{where}: {issue.message}", file=sys.stderr)


def cmd_validate(args) -> int:
    import components

    graph = _load_graph(args.graph)
    _apply_sets(graph, args.set or [])
    validation = validate(graph, components.registry)
    if args.json:
        print(json.dumps(validation.to_json(), ensure_ascii=False))
    if validation.issues:
        _print_issues(validation)
        print(f"{len(validation.issues)} issue(s)", file=sys.stderr)
        return 1
    print(f"ok: {len(graph.nodes)} nodes, {len(graph.edges)} edges, no issues", file=sys.stderr)
    return 0


class _Bars:
    """A tqdm bar per node and phase, and a line per epoch's metrics, on stderr."""

    def __init__(self, quiet: bool) -> None:
        from tqdm import tqdm

        self.tqdm = tqdm
        self.quiet = quiet
        self.bar = None
        self.key = None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            self.key = None

    def write(self, text: str) -> None:
        if not self.quiet:
            self.tqdm.write(text, file=sys.stderr)

    def event(self, e: ev.Event) -> None:
        match e:
            case ev.NodeProgress() if not self.quiet:
                key = (e.node, e.phase)
                if key != self.key:
                    self.close()
                    self.key = key
                    # the bar starts where the first event is (progress events are throttled at the
                    # source), so its rate counts only the steps it has seen being done
                    self.bar = self.tqdm(total=e.total, desc=f"{e.node} {e.phase or ''}".strip(), unit=e.unit,
                                         file=sys.stderr, leave=False, dynamic_ncols=True, initial=e.step)
                elif e.step >= self.bar.n:
                    self.bar.update(e.step - self.bar.n)
            case ev.NodeMetrics():
                self.close()
                self.write(f"{e.node} epoch {e.epoch}{' (from the checkpoint)' if e.resumed else ''}: "
                           + "  ".join(f"{k} {v:.4f}" if v is not None else f"{k} -" for k, v in e.metrics.items()))
            case ev.NodeStarted():
                self.close()
                self.write(f"▶ {e.node}")
            case ev.NodeCached():
                self.write(f"✓ {e.node} (from cache)")
            case ev.NodeFinished():
                self.close()
                self.write(f"✓ {e.node} in {e.seconds:.1f}s")
            case ev.NodeLog():
                self.close()
                self.write(f"  {e.node}: {e.message}")
            case ev.NodeFailed() | ev.RunFailed():
                self.close()
                print(f"✗ {e.node or 'run'}: {e.code}: {e.message}", file=sys.stderr)
            case ev.RunCancelled():
                self.close()
                print(e.message or "cancelled", file=sys.stderr)  # the message says "cancelled ..." itself


def _copy_models(summary, out_dir: Path) -> None:
    """Copy each trained model's file to OUT/<node>.pt; the summary then names the copy."""
    for node_id in summary.nodes:
        model = summary.model(node_id)
        if model is not None and model.model_file:
            target = out_dir / f"{node_id}.pt"
            shutil.copyfile(model.model_file, target)
            model.model_file = str(target.resolve())


def _settings(args) -> Any:
    """The settings object with the command line's choices on top of ABACUS_* variables."""
    from backend.settings import Settings

    overrides: dict[str, Any] = {}
    for name in ("host", "port", "token", "home", "executor", "ray_address"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    if getattr(args, "db", None) is not None:
        overrides["db_url"] = args.db
    if getattr(args, "mlflow", None) is not None:
        overrides["mlflow_tracking_uri"] = args.mlflow
    if getattr(args, "data_root", None):
        overrides["data_roots"] = [Path(p) for p in args.data_root]
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise SystemExit(f"abacus: {where + ': ' if where else ''}{first['msg'].removeprefix('Value error, ')}") \
            from None


def _check_cluster(settings) -> None:
    if settings.executor == "ray":
        from backend.worker.cluster import unreachable

        problem = unreachable(settings.ray_address or "")
        if problem:
            raise SystemExit(f"abacus: cannot reach the Ray cluster at {settings.ray_address}: {problem}")


def _request(args, settings) -> tuple[Any, Graph, list[str], str]:
    """What ``abacus run`` and ``abacus plan`` hand the run service: (the service, over ``--cache-dir``
    or else the settings' cache folder; the graph, ``--set`` applied; the ``--to`` or ``--node``
    targets; the mode they ask for)."""
    import components
    from backend.runs import RunService
    from backend.store.artifacts import FileResultStore

    graph = _load_graph(args.graph)
    _apply_sets(graph, args.set or [])
    targets = args.to or args.node or []
    mode = "node" if args.node else ("to" if args.to else "all")
    cache_dir = Path(args.cache_dir) if args.cache_dir else settings.cache_dir
    service = RunService(components.registry, FileResultStore(cache_dir), worker_settings=settings.run_settings())
    return service, graph, targets, mode


def cmd_run(args) -> int:
    import components
    from backend.runs import RunRejected
    from backend.runs.why import graph_scope, index_event, print_why
    from backend.worker import WorkerError, make_worker

    settings = _settings(args)
    service, graph, targets, mode = _request(args, settings)
    run_id = uuid.uuid4().hex[:12]
    try:
        prepared = service.prepare(graph, targets, mode, run_id=run_id, resume=args.resume,
                                   scope=graph_scope(args.graph))
    except RunRejected as err:
        validation = validate(graph, components.registry)
        if validation.issues:
            _print_issues(validation)
        else:
            for issue in err.issues:
                print(f"{issue.get('node') or '(graph)'}: {issue['code']}: {issue['message']}", file=sys.stderr)
        return 1
    _check_cluster(settings)
    out_dir = Path(args.out) if args.out else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    bars = _Bars(quiet=args.quiet)
    reducer = RunReducer(run_id)
    started = time.time()
    answered = service.from_store(prepared)   # everything stored: no worker to start
    export = _cli_mlflow_export(settings, args.graph, run_id, prepared.graph)
    worker = make_worker(settings, service.store.root) if answered is None else None

    def on_sigint(signum, frame):
        print("\ncancelling (the run stops within a batch) ...", file=sys.stderr)
        if worker is not None:
            worker.cancel(run_id)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        if worker is not None:
            worker.start()
        for e in (answered if answered is not None else worker.run(prepared)):
            e = e.model_copy(update={"run_id": run_id})
            reducer.add(e)
            bars.event(e)
            index_event(service.store, graph_scope(args.graph), e)
            for line in export.observe(e) if export is not None else ():
                line = line.model_copy(update={"run_id": run_id})
                reducer.add(line)
                bars.event(line)
    except WorkerError as err:
        print(f"abacus: {err.message}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
        bars.close()
        if worker is not None:
            worker.close()
    if reducer.terminal is None:   # the worker stopped without a final event
        reducer.add(ev.RunFailed(run_id=run_id, code="no_events", message="the run ended without a final event"))
    summary = reducer.result()
    summary.seconds = round(time.time() - started, 2)
    if out_dir is not None:
        _copy_models(summary, out_dir)
    if not args.quiet:
        _print_results(summary)
    if args.json:
        print(summary.model_dump_json())
    else:
        print_why(summary)
        print(f"{summary.status} in {summary.seconds:.1f}s", file=sys.stderr)
    _apply_budget(service.store.root, settings)   # last: the models are copied out by now
    return 0 if summary.status == "finished" else (130 if summary.status == "cancelled" else 1)


def _apply_budget(root: Path, settings: Any) -> None:
    """After a run, the cache's budget, as the studio applies it (``abacus cache``)."""
    from backend.cli_cache import print_prune
    from backend.store import cache_budget

    try:
        print_prune(cache_budget.prune(root, settings.cache_budget()))
    except OSError as err:
        print(f"cache: cannot apply its budget: {err}", file=sys.stderr)


def _print_results(summary) -> None:
    """On stderr, what a run taught: each trainer's best validation accuracy (a fine-tuning's
    against the training before it) and each evaluation's accuracy."""
    previous = None
    for node in summary.plan:
        model, report = summary.model(node), summary.evaluation(node)
        if model is not None and model.best is not None and model.best.val_accuracy is not None:
            acc = model.best.val_accuracy
            gain = f", {100 * (acc - previous):+.1f} points over the training before" \
                if previous is not None and model.phase == "finetune" else ""
            stopped = f", stopped early after epoch {model.stopped_epoch}" if model.stopped_epoch else ""
            print(f"result: {node} best val_accuracy {acc:.4f} (epoch {model.best_epoch} of "
                  f"{model.epochs}{stopped}){gain}", file=sys.stderr)
            previous = acc
        elif report is not None and report.accuracy is not None:
            print(f"result: {node} {report.split} accuracy {report.accuracy:.4f}", file=sys.stderr)


def cmd_predict(args) -> int:
    from backend.predict import predict_paths

    try:
        for row in predict_paths(args.model, args.inputs, batch_size=args.batch_size):
            print(json.dumps(row, ensure_ascii=False) if args.json else
                  f"{row['path']}\t{row.get('class', '-')}\t{row.get('probability', row.get('error', ''))}")
    except ValueError as err:
        print(f"abacus: {err}", file=sys.stderr)
        return 2
    return 0


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape) or "-"


def _print_info(info) -> None:
    """A model file's description and story, as a person reads it."""
    print(f"model file: {info.file}")
    print(f"classes: {', '.join(info.classes)}; input {_shape(info.input_shape)}, output "
          f"{_shape(info.output_shape)}; loss {info.loss or '-'}; {info.parameters:,} weights")
    prov = info.provenance
    if prov is None:
        print("provenance: none recorded (the file was saved before Abacus recorded it)")
        return
    graph = prov.graph
    name = graph.get("name")
    if isinstance(name, dict):
        name = name.get("en") or next(iter(name.values()), None)
    print(f"made by: node {prov.node} ({prov.component}) of the graph "
          f"{repr(name) if name else '(unnamed)'}, {len(graph.get('nodes', []))} nodes, "
          f"{len(graph.get('edges', []))} edges")
    print(f"saved: {prov.created.isoformat(timespec='seconds')} by Abacus {prov.abacus_version}")
    if prov.metrics:
        print(f"metrics (epoch {prov.epoch} of {prov.epochs}): "
              + "  ".join(f"{k} {v:.4f}" if v is not None else f"{k} -" for k, v in prov.metrics.items()))
    print(f"dataset fingerprint: {prov.dataset_fingerprint or '-'}")
    types = {n.get("id"): n.get("type") for n in graph.get("nodes", [])}
    print("cache keys:")
    for node, key in prov.keys.items():
        comp = types.get(node) or "?"
        extra = f"  data {prov.fingerprints[node]}" if node in prov.fingerprints else ""
        print(f"  {node:<20} {comp} v{prov.components.get(comp, '?')}  {key}{extra}")


def cmd_inspect(args) -> int:
    from backend.engine.provenance import NotAModelFile, read_model_file

    try:
        info = read_model_file(args.model)   # no torch: answers at once
    except FileNotFoundError:
        print(f"abacus: {args.model}: no such file", file=sys.stderr)
        return 2
    except NotAModelFile as err:
        print(f"abacus: {args.model}: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(info.model_dump_json())
    else:
        _print_info(info)
    return 0


def cmd_export(args) -> int:
    if not Path(args.model).is_file():
        print(f"abacus: {args.model}: no such file", file=sys.stderr)
        return 2
    from components.torchkit.exchange import export_onnx

    try:
        meta = export_onnx(args.model, args.onnx)
    except ValueError as err:   # not a model file
        print(f"abacus: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"abacus: cannot export {args.model} to ONNX: {err}", file=sys.stderr)
        return 1
    size = json.loads(meta["input_size"])
    print(f"wrote {args.onnx}: input 'image' float32 N x {size['channels']} x {size['height']} x {size['width']} "
          f"RGB in [0, 1], output 'probabilities' ({', '.join(json.loads(meta['classes']))})", file=sys.stderr)
    return 0


def cmd_templates(args) -> int:
    from backend.engine.templates import list_templates

    for t in list_templates():
        print(f"{t['id']}\t{t['name'].get('zh', '')}\t{t['name'].get('en', '')}")
    return 0


def _read_token_file(path: str) -> str:
    """The token in a file, stripped; a missing, unreadable or empty file is an error."""
    import os
    import stat

    try:
        token = Path(path).read_text(encoding="utf-8").strip()
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise SystemExit(f"abacus: --token-file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SystemExit(f"abacus: --token-file {path}: cannot read it: {err}") from None
    if not token:
        raise SystemExit(f"abacus: --token-file {path} is empty")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"abacus: warning: {path} can be read by other users (chmod 600 {path})", file=sys.stderr)
    return token


def cmd_serve(args) -> int:
    from backend.api.security import check_bind, check_token_strength, redact_tokens_in_logs

    if args.token is not None:
        print("abacus: warning: --token is visible to every user of this machine (ps, /proc); "
              "prefer --token-file PATH or ABACUS_TOKEN", file=sys.stderr)
    if args.token_file is not None:
        args.token = _read_token_file(args.token_file)
    settings = _settings(args)
    check_bind(settings.host, settings.token)
    weak = check_token_strength(settings.host, settings.token)   # refuses a weak token off loopback
    if weak:
        print(weak, file=sys.stderr)
    _check_cluster(settings)   # refuse to start rather than serve with nowhere to run
    import uvicorn

    from backend.api.app import create_app

    app = create_app(settings)
    shown = settings.host if ":" not in settings.host else f"[{settings.host}]"
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=args.log_level,
                            ws_ping_interval=20.0, ws_ping_timeout=20.0,
                            # events are ~150-byte JSON messages: compressing them costs more than it saves
                            ws_per_message_deflate=False)
    redact_tokens_in_logs(settings.token)   # after uvicorn set up logging: URLs carry ?token=
    server = uvicorn.Server(config)
    real_startup = server.startup

    async def startup(sockets=None):  # print the address once the port is really bound
        await real_startup(sockets=sockets)
        port = settings.port
        for srv in getattr(server, "servers", []):
            for sock in getattr(srv, "sockets", []) or []:
                port = sock.getsockname()[1]
                break
        print(f"Abacus studio: http://{shown}:{port}", flush=True)

    server.startup = startup
    try:
        server.run()
    except KeyboardInterrupt:   # Ctrl-C: uvicorn shut down gracefully, then re-raised SIGINT to report it
        return 130
    if not server.started:   # the lifespan failed, e.g. the cluster refused the connection
        print("abacus: the studio did not start (see the error above)", file=sys.stderr)
        return 3
    return 0


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n} bytes"


def _weights_entry(args):
    from components.backbones import weights

    settings = _settings(args)
    try:
        return weights.get_entry(args.name, settings.weights_catalog), settings
    except weights.WeightsError as err:
        raise SystemExit(f"abacus: {err.message}") from None


def cmd_weights_list(args) -> int:
    from components.backbones import weights

    settings = _settings(args)
    for entry in weights.load_catalog(settings.weights_catalog).values():
        state = weights.status(entry)
        where = "present" if state["present"] else (
            f"missing ({_size(state['partial_bytes'])} downloaded)" if state["partial_bytes"] else "missing")
        print(f"{entry.name}\t{_size(entry.size)}\t{where}\t{state['path']}")
    return 0


def cmd_weights_fetch(args) -> int:
    from tqdm import tqdm

    from components.backbones import weights

    entry, settings = _weights_entry(args)
    mirror = args.mirror if args.mirror is not None else settings.weights_mirror
    if weights.status(entry)["present"]:
        print(f"{entry.name}: already at {weights.target_path(entry)}", file=sys.stderr)
        return 0
    print(f"{entry.name}: {weights.source_url(entry, mirror)} -> {weights.target_path(entry)}", file=sys.stderr)
    bar = tqdm(total=entry.size, unit="B", unit_scale=True, unit_divisor=1024, desc=entry.name,
               file=sys.stderr, dynamic_ncols=True, disable=args.quiet)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    try:
        path = weights.fetch(entry, mirror=mirror, progress=progress)
    except weights.WeightsError as err:
        bar.close()
        print(f"abacus: {err.message}", file=sys.stderr)
        return 1
    bar.close()
    print(f"{entry.name}: verified and saved at {path}", file=sys.stderr)
    return 0


def cmd_weights_import(args) -> int:
    from components.backbones import weights

    entry, _ = _weights_entry(args)
    try:
        path = weights.import_file(entry, args.file)
    except weights.WeightsError as err:
        print(f"abacus: {err.message}", file=sys.stderr)
        return 1
    print(f"{entry.name}: verified and saved at {path}", file=sys.stderr)
    return 0


def _mlflow_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mlflow", metavar="URI",
                   help="log each finished trainer to MLflow at this tracking URI, e.g. file:///path/mlruns "
                        "(or ABACUS_MLFLOW_TRACKING_URI)")


def _cli_mlflow_export(settings, graph_ref: str, run_id: str, graph: dict) -> Any:
    """The run's MLflow export when one is set: its experiment is named after the graph file or template."""
    if not settings.mlflow_tracking_uri:
        return None
    import components
    from backend.engine.graph_diff import registry_defaults
    from backend.runs.mlflow_export import MlflowExport

    return MlflowExport(settings.mlflow_tracking_uri, Path(graph_ref).stem, run_id, graph,
                        defaults=registry_defaults(components.registry), tags={"abacus.graph": graph_ref})


def _executor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=["local", "ray"],
                   help="where runs execute: local (an embedded worker process, the default) or ray "
                        "(or ABACUS_EXECUTOR)")
    p.add_argument("--ray-address", metavar="HOST:PORT", help="the Ray cluster's head (or ABACUS_RAY_ADDRESS)")


def _graph_args(p: argparse.ArgumentParser, to_help: str, node_help: str) -> None:
    """The graph and the nodes asked for, as ``_request`` reads them (``abacus run`` and ``abacus plan``)."""
    p.add_argument("graph", help="a graph JSON file or a template id")
    p.add_argument("--to", action="append", metavar="NODE", help=to_help)
    p.add_argument("--node", action="append", metavar="NODE", help=node_help)
    p.add_argument("--set", action="append", metavar="NODE.PARAM=VALUE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="abacus", description="Abacus: visual transfer-learning workflows")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a graph and print its issues")
    p.add_argument("graph", help="a graph JSON file or a template id")
    p.add_argument("--set", action="append", metavar="NODE.PARAM=VALUE")
    p.add_argument("--json", action="store_true", help="print issues and inferred shapes as JSON")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run a graph (all of it, to nodes, or single nodes)")
    _graph_args(p, "run this node and all it needs", "re-run this node (inputs from the cache)")
    p.add_argument("--out", help="save every trained model here as NODE.pt")
    p.add_argument("--cache-dir", help="results and artifacts (default: $ABACUS_HOME/cache)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--resume", action="store_true",
                   help="trainers continue from their checkpoints in the cache (the last epoch an interrupted "
                        "run of the same graph completed) instead of from epoch 1")
    _mlflow_arg(p)
    _executor_args(p)
    p.set_defaults(func=cmd_run)

    from backend.cli_cache import add_parser as add_cache_parser
    from backend.cli_plan import add_parser as add_plan_parser

    add_plan_parser(sub)
    add_cache_parser(sub)

    p = sub.add_parser("predict", help="classify images with a saved model")
    p.add_argument("model", help="a model file saved by a run (--out)")
    p.add_argument("inputs", nargs="+", help="image files or folders")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("inspect", help="show a model file's story: graph, node, cache keys, data, metrics")
    p.add_argument("model", help="a model file saved by a run")
    p.add_argument("--json", action="store_true", help="print it as JSON (the provenance record in full)")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("export", help="export a model file (to ONNX)")
    p.add_argument("model", help="a model file saved by a run")
    p.add_argument("--onnx", required=True, metavar="OUT.onnx",
                   help="write an ONNX model: RGB N x C x H x W in [0, 1] in, class probabilities out; input size, "
                        "normalization and class names in its metadata")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("serve", help="start the studio server (API, live events and the editor)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1; any other needs a token)")
    p.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--db", help="database URL (default: SQLite at $ABACUS_HOME/abacus.db), "
                                "e.g. postgresql://user:pass@host/abacus")
    p.add_argument("--data-root", action="append", metavar="DIR",
                   help="a folder datasets and weight files may be read from (repeatable)")
    given = p.add_mutually_exclusive_group()
    given.add_argument("--token-file", metavar="PATH",
                       help="read the access token every request must carry from this file (or ABACUS_TOKEN); "
                            "off loopback it needs at least 16 characters")
    given.add_argument("--token", help="the access token itself: visible to other users in ps, "
                                       "prefer --token-file or ABACUS_TOKEN")
    p.add_argument("--home", help="where the database, cache and artifacts live (or ABACUS_HOME)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    _mlflow_arg(p)
    _executor_args(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("templates", help="list the graph templates")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("weights", help="pretrained weight files: list, fetch (download) or import them")
    wsub = p.add_subparsers(dest="weights_command", required=True)
    w = wsub.add_parser("list", help="the catalog's weight files, present or missing, and where they go")
    w.set_defaults(func=cmd_weights_list)
    w = wsub.add_parser("fetch", help="download a weight file into the torch hub cache (resumes an interrupted "
                                      "download; verified before use)")
    w.add_argument("name", help="a catalog name (abacus weights list), e.g. vgg16")
    w.add_argument("--mirror", metavar="URL", help="download from this base URL + the file name "
                                                   "(or ABACUS_WEIGHTS_MIRROR)")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    w.set_defaults(func=cmd_weights_fetch)
    w = wsub.add_parser("import", help="copy a weight file you downloaded yourself into the torch hub cache, "
                                       "after verifying it")
    w.add_argument("name", help="a catalog name, e.g. vgg16")
    w.add_argument("file", help="the downloaded file")
    w.set_defaults(func=cmd_weights_import)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

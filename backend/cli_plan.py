"""``abacus plan``: a dry run that lists the nodes a run would execute, and why, before anything runs.

Like ``abacus run`` it reads the cache folder and the result index there; it starts no worker, so
a node whose result a worker keeps in memory only is listed to run (it is cheap to make).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="a dry run: which nodes would run, and why (nothing runs)")
    p.add_argument("graph", help="a graph JSON file or a template id")
    p.add_argument("--to", action="append", metavar="NODE", help="plan this node and all it needs")
    p.add_argument("--node", action="append", metavar="NODE", help="plan re-running this node")
    p.add_argument("--set", action="append", metavar="NODE.PARAM=VALUE")
    p.add_argument("--cache-dir", help="results and artifacts (default: $ABACUS_HOME/cache)")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=cmd_plan)


def cmd_plan(args) -> int:
    import components
    from backend.cli import _apply_sets, _load_graph, _settings
    from backend.runs import RunRejected, RunService
    from backend.runs.why import graph_scope, preview_of, why_text
    from backend.store.artifacts import FileResultStore

    settings = _settings(args)
    graph = _load_graph(args.graph)
    _apply_sets(graph, args.set or [])
    targets = args.to or args.node or []
    mode = "node" if args.node else ("to" if args.to else "all")
    cache_dir = Path(args.cache_dir) if args.cache_dir else settings.cache_dir
    service = RunService(components.registry, FileResultStore(cache_dir), worker_settings=settings.run_settings())
    try:
        prepared = service.prepare(graph, targets, mode, scope=graph_scope(args.graph))
    except RunRejected as err:
        for issue in err.issues:
            print(f"{issue.get('node') or '(graph)'}: {issue['code']}: {issue['message']}", file=sys.stderr)
        return 1
    preview = preview_of(prepared)
    if args.json:
        print(preview.model_dump_json())
        return 0
    for nid in preview.order:
        if nid in preview.why:
            print(f"{nid}: {why_text(preview.why[nid])}")
    print(f"{len(preview.run)} to run, {len(preview.cached)} from the cache", file=sys.stderr)
    return 0

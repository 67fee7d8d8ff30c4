"""``abacus plan``: a dry run that lists the nodes a run would execute, and why, before anything runs.

Like ``abacus run`` it reads the cache folder and the result index there; it starts no worker, so
a node whose result a worker keeps in memory only is listed to run (it is cheap to make).
"""
from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    from backend.cli import _graph_args

    p = sub.add_parser("plan", help="a dry run: which nodes would run, and why (nothing runs)")
    _graph_args(p, "plan this node and all it needs", "plan re-running this node")
    p.add_argument("--cache-dir", help="results and artifacts (default: $ABACUS_HOME/cache)")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=cmd_plan)


def cmd_plan(args) -> int:
    from backend.cli import _request, _settings
    from backend.runs import RunRejected
    from backend.runs.why import graph_scope, preview_of, why_text

    service, graph, targets, mode = _request(args, _settings(args))
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

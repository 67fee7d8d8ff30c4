"""``abacus cache``: how large the result store is, against its budget; ``abacus cache prune``
applies the budget now (``backend/store/cache_budget.py``), as the studio does after each run.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cache", help="the result store's size and budget; prune: apply the budget now")
    p.add_argument("action", nargs="?", choices=["show", "prune"], default="show",
                   help="show (default) or prune: remove least recently used entries until it fits")
    p.add_argument("--cache-dir", help="results and artifacts (default: $ABACUS_HOME/cache)")
    p.add_argument("--max-gb", type=float, metavar="GB",
                   help="the size limit for this prune (default: ABACUS_CACHE_MAX_GB, 20); 0: none")
    p.add_argument("--keep-recent-s", type=float, metavar="S",
                   help="never remove what a run used this recently (default: ABACUS_CACHE_KEEP_RECENT_S, 600)")
    p.add_argument("--keep-models", action="store_true", help="prune: remove no trained model")
    p.add_argument("--json", action="store_true", help="print it as JSON")
    p.set_defaults(func=cmd_cache)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n < 2**30 else f"{n / 2**30:,.1f} GB"


def budget_of(args: Any, settings: Any) -> Any:
    from backend.engine.settings import MAX_GB, MAX_KEEP_S

    budget = settings.cache_budget()
    update: dict[str, Any] = {}
    if args.max_gb is not None:
        if not 0 <= args.max_gb <= MAX_GB:
            raise SystemExit(f"abacus: --max-gb must be between 0 and {MAX_GB:g}")
        update["max_bytes"] = int(args.max_gb * 2**30)
    if args.keep_recent_s is not None:
        if not 0 <= args.keep_recent_s <= MAX_KEEP_S:
            raise SystemExit(f"abacus: --keep-recent-s must be between 0 and {MAX_KEEP_S:g}")
        update["keep_recent_s"] = args.keep_recent_s
    return budget.model_copy(update=update)


def cmd_cache(args) -> int:
    from backend.cli import _settings
    from backend.store import cache_budget

    settings = _settings(args)
    root = Path(args.cache_dir) if args.cache_dir else settings.cache_dir
    budget = budget_of(args, settings)
    if args.action == "prune":
        report = cache_budget.prune(root, budget, keep_models=args.keep_models)
        if args.json:
            print(report.model_dump_json())
        else:
            print_prune(report, file=sys.stdout)
            if report.removed == 0 and report.why is None:
                print(f"within its budget: {_mb(report.bytes_before)} in {report.entries_before} entries")
        return 0
    usage = cache_budget.usage(root, budget)
    if args.json:
        print(usage.model_dump_json())
        return 0
    limit = _mb(usage.max_bytes) if usage.max_bytes else "no limit"
    print(f"{root}: {_mb(usage.bytes)} in {usage.entries} entries ({usage.models} trained models, "
          f"{_mb(usage.model_bytes)}); budget {limit}, {_mb(usage.min_free_bytes)} kept free, "
          f"{_mb(usage.free_bytes)} free on its disk")
    return 0


def print_prune(report: Any, file: Any = None) -> None:
    """One line for a pass that removed something (or could not remove enough), on stderr by default."""
    file = file or sys.stderr
    why = {"size": "over its size limit", "disk": "its disk nearly full", "both": "over its size limit, its disk "
           "nearly full"}.get(report.why or "", "")
    if report.removed:
        models = f", {report.removed_models} of them trained models" if report.removed_models else ""
        print(f"cache: {why}: removed {report.removed} least recently used entries{models}, {_mb(report.freed_bytes)}; "
              f"{_mb(report.bytes_after)} left", file=file)
    if report.short_bytes:
        print(f"cache: still {_mb(report.short_bytes)} over its budget: the rest was used in the last minutes",
              file=file)

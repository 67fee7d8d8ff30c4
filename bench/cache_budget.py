"""What applying the cache's budget costs, against the bare file-system walk it cannot avoid.

After every run the studio applies the cache's budget (``backend/store/cache_budget.py``): one
pass over the result store that sizes every entry and, when the store is over its budget,
removes the least recently used. The pass blocks claiming the next run, so its cost matters
on a store with thousands of entries.

Builds a store of N entries shaped like the real ones (a result, its metadata and an artifact
folder with one file; every tenth a trained model with two checkpoints), then times, in
alternation (the machine's speed wanders):

- walk_s: the baseline, ``os.walk`` plus one ``os.stat`` of every file: the least any pass
  that sizes the store must do;
- scan_s: ``prune`` on a store within its budget (the usual case after a run): ratio_scan;
- remove_s: ``prune`` of 10 % of the entries (a store just over its budget), the records of
  what went included (each pass on a fresh copy).

    .venv/bin/python bench/cache_budget.py [--entries 5000] [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import loadavg, log, machine, median, r3, summary, tmpdir  # noqa: E402


def build(root: Path, n: int) -> int:
    """A store of ``n`` entries; returns its bytes."""
    total = 0
    for i in range(n):
        key = f"{i:032x}"
        results = root / "results" / key[:2]
        results.mkdir(parents=True, exist_ok=True)
        folder = root / "artifacts" / key
        folder.mkdir(parents=True)
        files = {results / f"{key}.pt": 2048, results / f"{key}.json": 400}
        if i % 10 == 0:
            files.update({folder / "model.pt": 8192, folder / "checkpoint-epoch0003.pt": 8192})
        else:
            files[folder / "features.npy"] = 4096
        for path, size in files.items():
            path.write_bytes(b"\0" * size)
            total += size
    return total


def walk(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            total += os.stat(os.path.join(dirpath, name)).st_size
    return total


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    from backend.engine.settings import CacheBudget
    from backend.store import cache_budget

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    load_before = loadavg()
    base = tmpdir("budget")
    try:
        store = base / "store"
        size = build(store, args.entries)
        log(f"a store of {args.entries} entries, {size / 2**20:.1f} MB")
        within = CacheBudget(max_bytes=size * 2, min_free_bytes=0, keep_recent_s=0)
        over = CacheBudget(max_bytes=int(size * 0.9), min_free_bytes=0, keep_recent_s=0)
        walks, scans, removes, removed = [], [], [], 0
        for i in range(args.runs):
            for side in (("walk", "scan") if i % 2 == 0 else ("scan", "walk")):
                if side == "walk":
                    walks.append(timed(lambda: walk(store)))
                else:
                    scans.append(timed(lambda: cache_budget.prune(store, within)))
            copy = base / f"copy{i}"
            shutil.copytree(store, copy)
            report = None

            def remove():
                nonlocal report
                report = cache_budget.prune(copy, over)

            removes.append(timed(remove))
            removed = report.removed
            shutil.rmtree(copy)
            log(f"run {i + 1}: walk {walks[-1]:.3f} s, scan {scans[-1]:.3f} s, remove {removes[-1]:.3f} s "
                f"({removed} entries)")
        summary("cache_budget", {
            "entries": args.entries, "store_mb": r3(size / 2**20), "walk_s": r3(median(walks)),
            "scan_s": r3(median(scans)), "ratio_scan": r3(median(scans) / median(walks)),
            "remove_s": r3(median(removes)), "removed": removed, "runs": args.runs,
            "machine": machine(), "load": [load_before, loadavg()],
        })
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The template with its fixed augmentation variants against the same template without augmentation.

Runs the offline template (templates/model_optimization_finetuning_offline.json) as shipped,
to ``evaluate`` (both phases and the test evaluation), in a fresh worker process with a fresh
cache folder, and the same graph with the image-formatting step's ``augmentation`` set to
``none``; the sides alternate (augmented first, then plain, then the other way round when
``--pairs 2``). Prints the wall time of each whole run and their ratio, both trainers' best
validation accuracy, the gain of fine-tuning, the test accuracy, and what the variants cost
(how many were cached, the feature pass's seconds).

    .venv/bin/python bench/augment_vs_plain.py                  # all 4,000 photos, one pair
    .venv/bin/python bench/augment_vs_plain.py --pairs 2        # two pairs, sides alternating
    .venv/bin/python bench/augment_vs_plain.py --max-per-class 100   # a quick look
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import _common as c
from backend.engine import events as ev


def template_graph(root: str, augmentation: str | None, max_per_class: int | None) -> dict:
    """The offline template as shipped (``augmentation`` None), or with that augmentation."""
    g = json.loads(c.OFFLINE_TEMPLATE.read_text(encoding="utf-8"))
    for node in g["nodes"]:
        if node["id"] == "dataset":
            node["params"]["root"] = str(Path(root).expanduser().resolve())
            if max_per_class:
                node["params"]["max_per_class"] = max_per_class
        if node["id"] == "format" and augmentation is not None:
            node["params"]["augmentation"] = augmentation
    return g


def shipped_augmentation() -> str:
    g = json.loads(c.OFFLINE_TEMPLATE.read_text(encoding="utf-8"))
    return next(n for n in g["nodes"] if n["id"] == "format")["params"]["augmentation"]


def run_side(args, augmented: bool) -> dict:
    label = "augmented" if augmented else "plain"
    graph = template_graph(args.root, None if augmented else "none", args.max_per_class or None)
    cache = c.tmpdir(label)
    c.log(f"{label}: fresh worker, cache {cache}")
    try:
        events, wall = c.run_in_worker(graph, ["evaluate"], device=args.device, cache_dir=cache,
                                       on_event=c.print_progress)
    finally:
        if not args.keep:
            shutil.rmtree(cache, ignore_errors=True)
    sizes = c.split_sizes(events)
    out = {"wall_s": c.r3(wall), "status": c.final_status(events)}
    err = c.failure(events)
    if err:
        out["error"] = err
    for node in ("train", "train_finetuned"):
        out[node] = c.trainer_stats(events, node, sizes.get("train", 0))
    report = c.reduce_run("bench", events).evaluation("evaluate")
    out["test_acc"] = round(report.accuracy, 4) if report and report.accuracy is not None else None
    variants = [e for e in events if isinstance(e, ev.NodeLog) and e.code == "feature_variants"]
    if variants:
        out["variants"] = variants[0].cache.variants
        out["variant_feature_pass_s"] = variants[0].cache.seconds
    built = [e.cache for e in events if isinstance(e, ev.NodeLog) and e.cache is not None
             and e.cache.cache == "features" and e.cache.built and e.cache.seconds is not None]
    out["feature_pass_s"] = c.r3(sum(n.seconds for n in built))
    a, b = (out["train"].get("best_val_acc"), out["train_finetuned"].get("best_val_acc"))
    out["finetune_gain_points"] = round(100 * (b - a), 2) if a is not None and b is not None else None
    c.log(f"{label}: {out['status']} in {wall:.1f}s; best val {a} -> {b}; test {out['test_acc']}")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(c.DEFAULT_PHOTOS), help="cats-vs-dogs folder (PetImages/Cat, Dog)")
    p.add_argument("--max-per-class", type=int, default=0, help="images per class; 0 uses all")
    p.add_argument("--pairs", type=int, default=1, help="pairs of runs; the order alternates")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--keep", action="store_true", help="keep the cache folders")
    args = p.parse_args()

    load_before = c.loadavg()
    c.stop_on_sigterm()
    c.log(f"augment_vs_plain: template augmentation {shipped_augmentation()!r} against 'none', "
          f"{args.pairs} pair(s), max_per_class {args.max_per_class or 'all'}, device {args.device}, load {load_before}")
    runs: dict[str, list[dict]] = {"augmented": [], "plain": []}
    partial = None
    try:
        for i in range(args.pairs):
            for augmented in ((True, False) if i % 2 == 0 else (False, True)):
                runs["augmented" if augmented else "plain"].append(run_side(args, augmented))
    except c.Interrupted as err:
        partial = f"interrupted ({err})"
        c.log(partial)

    import torch  # noqa: F401  (the machine description names its version)

    def walls(side):
        return [r["wall_s"] for r in runs[side] if r.get("wall_s")]

    aug, plain = walls("augmented"), walls("plain")
    c.summary("augment_vs_plain", {
        "ratio_augmented_over_plain": round(c.median(aug) / c.median(plain), 2) if aug and plain else None,
        "wall_s": {"augmented": aug, "plain": plain},
        "augmentation": shipped_augmentation(),
        "best_val_acc": {side: [{n: r[n].get("best_val_acc") for n in ("train", "train_finetuned")}
                                for r in rs] for side, rs in runs.items()},
        "finetune_gain_points": {side: [r["finetune_gain_points"] for r in rs] for side, rs in runs.items()},
        "test_acc": {side: [r["test_acc"] for r in rs] for side, rs in runs.items()},
        "augmented": runs["augmented"], "plain": runs["plain"], "partial": partial,
        "config": {"max_per_class": args.max_per_class or None, "pairs": args.pairs, "device": args.device},
        "load": {"before": load_before, "after": c.loadavg()}, "machine": c.machine(),
    })


if __name__ == "__main__":
    main()

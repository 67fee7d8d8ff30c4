"""The feature cache against the plain path, on the real photos.

Runs the offline template (templates/model_optimization_finetuning_offline.json) to
``train_finetuned`` twice in one invocation, each in a fresh worker process with a fresh
cache folder and the same seeds: once as shipped (feature cache on) and once with both
trainers' ``feature_cache`` false. Prints the wall-time ratio plain/cached, the best
validation accuracy of both trainers on both paths, and throughput per trainer.

    .venv/bin/python bench/cache_vs_plain.py                      # quick CPU default
    .venv/bin/python bench/cache_vs_plain.py --max-per-class 0 --epochs1 10 --epochs2 10   # all photos
    python3 bench/cache_vs_plain.py --backbone vgg16 --weights none --device cuda
"""
from __future__ import annotations

import argparse
import os
import shutil

import _common as c


def run_variant(args, feature_cache: bool) -> dict:
    graph = c.offline_graph(args.root, epochs1=args.epochs1, epochs2=args.epochs2,
                            max_per_class=args.max_per_class or None, backbone=args.backbone,
                            weights=args.weights, size=args.size, feature_cache=feature_cache, seed=args.seed)
    cache = c.tmpdir("cache" if feature_cache else "plain")
    label = "cached" if feature_cache else "plain"
    c.log(f"{label}: fresh worker, cache {cache}")
    try:
        events, wall = c.run_in_worker(graph, ["train_finetuned"], device=args.device, cache_dir=cache,
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
    out["sizes"] = sizes
    c.log(f"{label}: {out['status']} in {wall:.1f}s")
    return out


TARGET = 5.0


def breakdown(cached: dict, plain: dict, target: float = TARGET) -> dict | None:
    """Where the ratio comes from, from the two runs' node timings.

    X: what only the cached run does, its feature passes (the trainers' extra setup time);
    B: what only the uncached run does, the backbone work in every epoch (the trainers' extra
    loop time); S: everything else, which both runs do (worker start, dataset, decoding, the
    head's training, saving). Then plain / cached = (S + B) / (S + X), and the target ratio
    needs S <= (B - target * X) / (target - 1): ``shared_s_max_for_target``. The split holds
    when the uncached run's wall time is close to S + B (``plain_s_from_parts``); in tiny runs
    the first run's cold start (file cache, first kernels) breaks it.
    """
    try:
        x = sum(cached[n]["setup_s"] - plain[n]["setup_s"] for n in ("train", "train_finetuned"))
        b = sum(plain[n]["loop_s"] - cached[n]["loop_s"] for n in ("train", "train_finetuned"))
        shared = cached["wall_s"] - x
    except (KeyError, TypeError):
        return None
    return {"shared_s": c.r3(shared), "feature_pass_s": c.r3(x), "repeated_backbone_s": c.r3(b),
            "ratio_from_parts": round((shared + b) / (shared + x), 2),
            "plain_s_from_parts": c.r3(shared + b), "target": target,
            "shared_s_max_for_target": c.r3((b - target * x) / (target - 1))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(c.DEFAULT_PHOTOS), help="cats-vs-dogs folder (PetImages/Cat, Dog)")
    p.add_argument("--epochs1", type=int, default=3, help="epochs of the first trainer (template: 10)")
    p.add_argument("--epochs2", type=int, default=3, help="epochs of the fine-tuning trainer (template: 10)")
    p.add_argument("--max-per-class", type=int, default=100, help="images per class; 0 uses all")
    p.add_argument("--backbone", choices=sorted(c.BACKBONES), default="lite0")
    p.add_argument("--weights", choices=["imagenet", "none"], default=None,
                   help="default: imagenet for lite0, none for vgg16 (its ImageNet file is not shipped)")
    p.add_argument("--size", type=int, default=150)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--plain-first", action="store_true", help="run the plain path first")
    p.add_argument("--keep", action="store_true", help="keep the cache folders")
    args = p.parse_args()
    args.weights = args.weights or ("imagenet" if args.backbone == "lite0" else "none")

    load_before = c.loadavg()
    c.stop_on_sigterm()
    c.log(f"cache_vs_plain: {args.backbone}/{args.weights} {args.size}px, epochs {args.epochs1}+{args.epochs2}, "
          f"max_per_class {args.max_per_class or 'all'}, device {args.device}, load {load_before}")
    results, partial = {}, None
    try:
        for cached in ((False, True) if args.plain_first else (True, False)):
            results["cached" if cached else "plain"] = run_variant(args, cached)
    except c.Interrupted as err:
        partial = f"interrupted ({err}) after {sorted(results) or 'nothing'}"
        c.log(partial)
    cached, plain = results.get("cached", {}), results.get("plain", {})

    import torch  # noqa: F401  (the machine description names its version and GPU)

    diffs = []
    for node in ("train", "train_finetuned"):
        a, b = (cached.get(node) or {}).get("val_acc") or [], (plain.get(node) or {}).get("val_acc") or []
        diffs += [abs(x - y) for x, y in zip(a, b)]

    def ratio(a, b):
        return round(b / a, 2) if a and b else None

    def node_s(side, node):
        return (side.get(node) or {}).get("node_s")

    def best(side, node):
        return (side.get(node) or {}).get("best_val_acc")

    c.summary("cache_vs_plain", {
        "ratio_plain_over_cached": ratio(cached.get("wall_s"), plain.get("wall_s")),
        "train_ratio": ratio(node_s(cached, "train"), node_s(plain, "train")),
        "finetune_ratio": ratio(node_s(cached, "train_finetuned"), node_s(plain, "train_finetuned")),
        "best_val_acc": {"cached": {n: best(cached, n) for n in ("train", "train_finetuned")},
                         "plain": {n: best(plain, n) for n in ("train", "train_finetuned")}},
        "max_val_acc_diff": round(max(diffs), 4) if diffs else None,
        "wall_s": {"cached": cached.get("wall_s"), "plain": plain.get("wall_s")},
        "breakdown": breakdown(cached, plain),
        "config": {"backbone": args.backbone, "weights": args.weights, "size": args.size,
                   "epochs": [args.epochs1, args.epochs2], "max_per_class": args.max_per_class or None,
                   "sizes": cached.get("sizes") or plain.get("sizes"), "device": args.device,
                   "amp": os.environ.get("ABACUS_AMP", "default")},
        "cached": cached, "plain": plain, "partial": partial,
        "load": {"before": load_before, "after": c.loadavg()}, "machine": c.machine(),
    })


if __name__ == "__main__":
    main()

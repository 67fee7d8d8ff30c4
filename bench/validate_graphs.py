"""How long validation takes on big generated graphs.

Generates valid graphs of 100, 1,000 and 5,000 nodes with a realistic mix: model chains
(Input, sometimes a VGG16 or EfficientNet-Lite0 backbone, Flatten, several Dense and
Dropout layers, an output Dense), each with a dataset, formatting, optimizer, trainer,
evaluation and, after a backbone, a fine-tune step with its own optimizer and trainer;
and many extra dataset/format/optimizer/trainer/evaluate branches on existing models.
Times (median of --runs) for each size:

- parse_ms: the document into the Graph model (what the server does with a request body)
- validate_ms: ``validate(graph, registry)``: every check and the shape inference
- plan_ms: ``make_plan(..., mode='all')``: cache keys of every node (dataset roots point
  to a missing folder here, so no file listing is timed; the cost of one dataset
  fingerprint on the real photos is measured apart)

It also validates and plans both templates in a new process and says whether that
imported torch (the server process should never need it).

Target: 1,000 nodes validated in under 50 ms. If a size misses it (or with --profile)
the top of a cProfile of that validation goes to stderr and into the summary.

    .venv/bin/python bench/validate_graphs.py [--sizes 100,1000,5000] [--runs 7] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import time

import _common as c

TARGET_MS = 50.0


def make_graph(n_nodes: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    nodes: list[dict] = []
    edges: list[dict] = []
    models: list[tuple[str, int]] = []  # (node giving the model's output tensor, input size)
    counter = [0]

    def node(kind: str, params: dict | None = None) -> str:
        counter[0] += 1
        nid = f"{kind.split('.')[-1].lower()}_{counter[0]}"
        nodes.append({"id": nid, "type": kind, "params": params or {},
                      "position": {"x": rng.uniform(0, 5000), "y": rng.uniform(0, 5000)}})
        return nid

    def edge(src: str, sport: str, dst: str, dport: str) -> None:
        edges.append({"id": f"{src}.{sport}->{dst}.{dport}", "source": src, "sourceHandle": sport,
                      "target": dst, "targetHandle": dport})

    def data_branch(model_out: str, size: int) -> str:
        ds = node("data.CatsVsDogs", {"root": f"/data/missing/set{rng.randrange(50)}", "train": 0.6,
                                      "validation": 0.2, "test": 0.2, "seed": rng.randrange(10_000),
                                      "max_per_class": rng.choice([None, 500, 1000])})
        fmt = node("data.ImageFormat", {"height": size, "width": size,
                                        "augmentation": rng.choice(["none", "none", "flip", "flip_rotate_zoom"])})
        opt_kind = rng.choice(["optimizers.RMSprop", "optimizers.Adam", "optimizers.SGD"])
        opt = node(opt_kind, {"learning_rate": rng.choice([1e-3, 1e-4, 2e-5])})
        tr = node("training.Trainer", {"batch_size": rng.choice([16, 20, 32]), "epochs": rng.randint(1, 30)})
        ev = node("training.Evaluate", {"split": rng.choice(["test", "validation"])})
        edge(ds, "dataset", fmt, "dataset")
        edge(model_out, "output", tr, "model")
        edge(fmt, "images", tr, "images")
        edge(opt, "optimizer", tr, "optimizer")
        edge(tr, "model", ev, "model")
        edge(fmt, "images", ev, "images")
        return tr

    def pipeline() -> None:
        size = rng.choice([64, 96, 128, 150, 224])
        prev = node("layers.Input", {"height": size, "width": size, "channels": 3})
        backbone = rng.random() < 0.6
        if backbone:
            kind = rng.choice(["backbones.VGG16", "backbones.EfficientNetLite0"])
            bb = node(kind, {"weights": rng.choice(["imagenet", "none"])})
            edge(prev, "output", bb, "input")
            prev = bb
        fl = node("layers.Flatten")
        edge(prev, "output", fl, "input")
        prev = fl
        for _ in range(rng.randint(1, 6)):  # a chain of layers
            layer = node("layers.Dense", {"units": rng.choice([32, 64, 128, 256, 512]), "activation": "relu"}) \
                if rng.random() < 0.7 else node("layers.Dropout", {"rate": rng.choice([0.2, 0.5])})
            edge(prev, "output", layer, "input")
            prev = layer
        out = node("layers.Dense", {"units": 1, "activation": "sigmoid"})
        edge(prev, "output", out, "input")
        tr = data_branch(out, size)
        models.append((out, size))
        if backbone:  # fine-tuning, as in the template
            ft = node("training.FineTune")
            opt = node("optimizers.RMSprop", {"learning_rate": 1e-5})
            tr2 = node("training.Trainer", {"batch_size": 20, "epochs": 10})
            fmt = next(e["source"] for e in edges if e["target"] == tr and e["targetHandle"] == "images")
            edge(tr, "model", ft, "model")
            edge(opt, "optimizer", ft, "optimizer")
            edge(ft, "model", tr2, "model")
            edge(fmt, "images", tr2, "images")

    while len(nodes) < n_nodes - 16:
        if not models or rng.random() < 0.35:
            pipeline()
        else:  # another dataset / format / trainer branch on an existing model
            data_branch(*rng.choice(models))
    while len(nodes) < n_nodes:  # exact size: spare optimizers (valid, unconnected sources)
        node("optimizers.Adam")
    return {"nodes": nodes, "edges": edges}


def timed(fn, runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds (CPU time is steadier on a busy machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, p0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - p0) * 1000)
    return c.median(wall), c.median(cpu)


COLD_PLAN = """
import json, sys, time
import components
from backend.engine import Graph, make_plan, validate
g = Graph.model_validate(json.load(open(sys.argv[1])))
t0 = time.perf_counter(); v = validate(g, components.registry); t1 = time.perf_counter()
make_plan(g, v, components.registry, [], "all"); t2 = time.perf_counter()
print(json.dumps({"validate_ms": round((t1 - t0) * 1000, 1), "plan_ms": round((t2 - t1) * 1000, 1),
                  "imports_torch": "torch" in sys.modules}))
"""


def cold_plan(template: str) -> dict:
    """Validate and plan a template in a new process: does planning import torch?"""
    import json
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(c.REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", COLD_PLAN, str(c.REPO / "templates" / f"{template}.json")],
                          capture_output=True, text=True, env=env, cwd=str(c.REPO))
    if proc.returncode != 0:
        return {"error": proc.stderr[-500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fingerprint_ms(root) -> float | None:
    """One dataset node's fingerprint (listing and stat of every file) on the real photos."""
    from components.data.cats_vs_dogs import CatsVsDogs

    if not (root / "PetImages").is_dir():
        return None
    comp = CatsVsDogs()
    params = comp.Params(root=str(root))
    wall, _ = timed(lambda: comp.fingerprint(params), 3)
    return round(wall, 1)


def profile_top(fn, limit: int = 12) -> list[str]:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(limit)
    text = buf.getvalue()
    print(text, file=sys.stderr)
    rows = [line.strip() for line in text.splitlines() if line.strip() and line.strip()[0].isdigit()]
    return rows[:limit]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100,1000,5000")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--profile", action="store_true", help="profile the 1,000-node validation even if fast")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    import components
    from backend.engine import Graph, make_plan, validate

    load_before = c.loadavg()
    c.log(f"validate_graphs: sizes {args.sizes}, {args.runs} runs each, load {load_before}")
    out: dict[str, dict] = {}
    profiles = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        doc = make_graph(size, args.seed)
        graph = Graph.model_validate(doc)
        v = validate(graph, components.registry)  # untimed warm-up
        if not v.ok:
            raise SystemExit(f"generated graph of {size} nodes has issues: {[i.message for i in v.issues[:5]]}")
        make_plan(graph, v, components.registry, [], "all")  # untimed warm-up
        parse_ms, _ = timed(lambda: Graph.model_validate(doc), args.runs)
        validate_ms, validate_cpu = timed(lambda: validate(graph, components.registry), args.runs)
        plan_ms, _ = timed(lambda: make_plan(graph, v, components.registry, [], "all"), max(3, args.runs // 2))
        kinds: dict[str, int] = {}
        for n in doc["nodes"]:
            kinds[n["type"]] = kinds.get(n["type"], 0) + 1
        out[str(size)] = {"nodes": len(doc["nodes"]), "edges": len(doc["edges"]),
                          "validate_ms": round(validate_ms, 2), "validate_cpu_ms": round(validate_cpu, 2),
                          "parse_ms": round(parse_ms, 2),
                          "plan_ms": round(plan_ms, 2), "trainers": kinds.get("training.Trainer", 0),
                          "datasets": kinds.get("data.CatsVsDogs", 0)}
        c.log(f"{size} nodes, {len(doc['edges'])} edges: validate {validate_ms:.1f} ms ({validate_cpu:.1f} ms CPU), parse {parse_ms:.1f} ms, "
              f"plan {plan_ms:.1f} ms")
        per_1000 = validate_ms * 1000 / size
        if (size == 1000 and (validate_ms > TARGET_MS or args.profile)) or per_1000 > TARGET_MS:
            c.log(f"profile of validate() on {size} nodes (sorted by own time):")
            profiles[str(size)] = profile_top(lambda: validate(graph, components.registry))
    cold = {t: cold_plan(t) for t in ("model_optimization_finetuning", "model_optimization_finetuning_offline")}
    c.log(f"templates validated and planned in a new process: {cold}")
    fp = fingerprint_ms(c.DEFAULT_PHOTOS)
    c.log(f"one dataset fingerprint on the real photos: {fp} ms")
    met = out.get("1000", {}).get("validate_ms")
    c.summary("validate_graphs", {
        "validate_ms": {k: v["validate_ms"] for k, v in out.items()},
        "validate_cpu_ms": {k: v["validate_cpu_ms"] for k, v in out.items()},
        "target_1000_lt_50ms": (met < TARGET_MS) if met is not None else None,
        "sizes": out, "cold_template_plan": cold, "dataset_fingerprint_ms_real_photos": fp,
        "runs": args.runs, "profiles": profiles or None,
        "load": {"before": load_before, "after": c.loadavg()}, "machine": c.machine(),
    })


if __name__ == "__main__":
    main()

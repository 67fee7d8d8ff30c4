"""What the engine costs on top of the training itself.

The same training, twice: through the engine (a real worker process runs the trainer node;
every backbone layer trainable, ``feature_extractor: false``, so there is nothing to
cache) and through a plain loop in this process over the same preloaded uint8 tensors,
with the same model (the same layer specs built by StagedModel, the same seed, so the same
initial weights), optimizer, batch order, validation every epoch, keep-best and one saved
model file. Both sides warm up once untimed (imports, oneDNN kernels, decoded images);
then they run side by side in pairs, REPS times (7; the order inside a pair alternates), and
the ratio is the median of the pairs' engine / plain ratios, which cancels the slow drift of a
shared machine. Target: the engine at most 5% slower (ratio <= 1.05). Wall time is the measure; CPU seconds (the worker process's
for the engine, this process's for the plain loop) are reported too, as they suffer less
from other work on a shared machine. The epoch loops (first batch to last validation) are
compared apart from the whole runs: ``loop_ratio`` is the per-step cost of the engine
(events, cancellation checks, bookkeeping), ``extra_fixed_s`` what a run costs on top
(planning, the dataset fingerprint, saving the model file and the result, events).

Two engine variants run by default: ``default`` (the trainer as a user leaves it, feature
cache on: with the whole backbone trainable the engine still caches the output of the
parameter-free input-normalization stage) and ``nocache`` (``feature_cache: false``).

    .venv/bin/python bench/engine_overhead.py
    python3 bench/engine_overhead.py --backbone vgg16 --weights none --size 150 --device cuda
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path

import _common as c

SEED = 42
LR = 1e-4


def graph(args, feature_cache: bool, epochs: int) -> dict:
    comp, fine_tune = c.BACKBONES[args.backbone]
    size = args.size
    nodes = [
        {"id": "input", "type": "layers.Input", "params": {"height": size, "width": size, "channels": 3}},
        {"id": "backbone", "type": comp, "params": {"weights": args.weights, "feature_extractor": False,
                                                    "fine_tune_layers": fine_tune}},
        {"id": "flatten", "type": "layers.Flatten", "params": {}},
        {"id": "dense", "type": "layers.Dense", "params": {"units": 256, "activation": "relu"}},
        {"id": "output", "type": "layers.Dense", "params": {"units": 1, "activation": "sigmoid"}},
        {"id": "dataset", "type": "data.CatsVsDogs",
         "params": {"root": str(Path(args.root).resolve()), "train": 0.5, "validation": 0.25, "test": 0.25,
                    "seed": 1337, "max_per_class": args.max_per_class}},
        {"id": "format", "type": "data.ImageFormat", "params": {"height": size, "width": size}},
        {"id": "optimizer", "type": "optimizers.RMSprop", "params": {"learning_rate": LR}},
        {"id": "train", "type": "training.Trainer",
         "params": {"batch_size": args.batch_size, "epochs": epochs, "seed": SEED, "feature_cache": feature_cache,
                    "loss": "binary_crossentropy"}},
    ]
    edges = [("input", "output", "backbone", "input"), ("backbone", "output", "flatten", "input"),
             ("flatten", "output", "dense", "input"), ("dense", "output", "output", "input"),
             ("dataset", "dataset", "format", "dataset"), ("output", "output", "train", "model"),
             ("format", "images", "train", "images"), ("optimizer", "optimizer", "train", "optimizer")]
    return {"nodes": nodes, "edges": [{"source": s, "sourceHandle": sh, "target": t, "targetHandle": th}
                                      for s, sh, t, th in edges]}


def layer_specs(g: dict):
    """The model's layer specs, made by the layer nodes themselves (no torch needed)."""
    import components
    from backend.engine import Executor, Graph, make_plan, validate
    from backend.store.artifacts import FileResultStore

    gg = Graph.model_validate(g)
    v = validate(gg, components.registry)
    assert v.ok, [i.message for i in v.issues]
    import shutil

    tmp = c.tmpdir("specs")
    try:
        ex = Executor(gg, v, components.registry, FileResultStore(tmp), lambda e: None)
        assert ex.run(make_plan(gg, v, components.registry, ["output"])) == "finished"
        return ex.results["output"]["output"].layers
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------- the plain loop
def plain_training(layers, images_dir: Path, epochs: int, batch_size: int, device: str) -> dict:
    """The trainer's work without the engine: load the uint8 arrays, build the model, train
    with validation every epoch, keep the best weights, save one model file."""
    import numpy as np
    import torch
    import torch.nn as nn

    from components.torchkit.model import StagedModel, pick_device

    t0, cpu0 = time.perf_counter(), time.process_time()
    dev = pick_device(device)

    def load(split):
        meta = json.loads((images_dir / f"{split}.json").read_text())
        deadline = time.monotonic() + 120  # the worker writes its image cache in the background
        while not (images_dir / f"{split}.images.npy").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        x = torch.from_numpy(np.array(np.load(images_dir / f"{split}.images.npy", mmap_mode="r")))
        return x, torch.tensor(meta["labels"], dtype=torch.int64)

    train_x, train_y = load("train")
    val_x, val_y = load("validation")
    torch.manual_seed(SEED)
    model = StagedModel(layers)
    model.set_trainable({n for n in model.stage_names() if n not in model.initially_frozen})
    model.to(device=dev, memory_format=torch.channels_last)  # as the trainer does, on CPUs and GPUs
    if dev.type == "cuda":
        train_x, val_x = train_x.pin_memory(), val_x.pin_memory()
    # bf16 autocast on a GPU, as the trainer does (ABACUS_AMP=0 turns it off there too)
    amp = dev.type == "cuda" and os.environ.get("ABACUS_AMP", "1") != "0" and torch.cuda.is_bf16_supported()

    def autocast():
        return torch.autocast("cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext()

    params = [p for p in model.parameters() if p.requires_grad]
    # the optimizer class the trainer uses (torch's update, bit for bit, without its CPU slow
    # spots): this benchmark measures the engine's bookkeeping, not a faster kernel
    from components.torchkit.optim import RMSprop

    opt = RMSprop(params, lr=LR, alpha=0.9, eps=1e-7)
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)

    def bce(out, y):
        p = out.reshape(-1).float().clamp(1e-7, 1 - 1e-7)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()

    def as_float(xb):
        return xb.permute(0, 3, 1, 2).float().div_(255.0)

    n = len(train_x)
    history, best, best_state = [], None, None
    loop0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        for m in model.modules():  # batch norm in inference mode, as the trainer does
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
        for name, child in model.named_children():
            if not any(p.requires_grad for p in child.parameters()):
                child.eval()
        order = torch.randperm(n, generator=gen)
        run_loss = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            xb, yb = as_float(train_x[idx]).to(dev), train_y[idx].to(dev)
            with autocast():
                out = model(xb)
            loss = bce(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            run_loss += loss.item() * len(idx)
        model.eval()
        correct, vloss = 0, 0.0
        with torch.no_grad():
            for start in range(0, len(val_x), 64):
                xb, yb = as_float(val_x[start:start + 64]).to(dev), val_y[start:start + 64].to(dev)
                with autocast():
                    out = model(xb).float()
                vloss += bce(out, yb).item() * len(yb)
                correct += ((out.reshape(-1) > 0.5).long() == yb).sum().item()
        acc = correct / len(val_x)
        history.append(round(acc, 4))
        if best is None or acc > best:
            best, best_state = acc, {k: v.detach().clone() for k, v in model.state_dict().items()}
    loop_s = time.perf_counter() - loop0
    with tempfile.TemporaryDirectory() as tmp:
        torch.save({k: v.cpu() for k, v in best_state.items()}, Path(tmp) / "model.pt")
    return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - cpu0, "loop_s": loop_s,
            "val_acc": history}


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process, all its threads (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


# ------------------------------------------------------------------------ the bench
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(c.DEFAULT_PHOTOS))
    p.add_argument("--backbone", choices=sorted(c.BACKBONES), default="lite0")
    p.add_argument("--weights", choices=["imagenet", "none"], default=None)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--max-per-class", type=int, default=100)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--variants", default="default,nocache", help="engine variants: default, nocache")
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    args.weights = args.weights or ("imagenet" if args.backbone == "lite0" else "none")
    variants = [v for v in args.variants.split(",") if v]

    import torch

    from backend.worker.local import LocalWorker

    from components.torchkit.model import configure_threads

    configure_threads()  # threads, heap and subnormal settings as in the worker
    load_before = c.loadavg()
    c.log(f"engine_overhead: {args.backbone}/{args.weights} {args.size}px, {args.max_per_class}/class, "
          f"{args.epochs} epochs, {args.reps} reps, variants {variants}, load {load_before}")
    cache = c.tmpdir("overhead")
    worker = LocalWorker(cache)
    layers = layer_specs(graph(args, True, args.epochs))
    c.stop_on_sigterm()
    times: dict[str, list[float]] = {v: [] for v in [*variants, "plain"]}
    cpu: dict[str, list[float]] = {v: [] for v in [*variants, "plain"]}
    node_s: dict[str, list[float]] = {v: [] for v in variants}
    loops: dict[str, list[float]] = {v: [] for v in [*variants, "plain"]}  # first batch to last validation
    acc: dict[str, list[float]] = {}
    sizes, partial = {}, None
    try:
        # warm-up, untimed: the worker imports torch, decodes the images, builds the default
        # variant's cache of the normalization stage; this process warms its kernels
        events, wall = c.run_in_worker(graph(args, True, 1), ["train"], device=args.device, worker=worker)
        if c.failure(events):
            raise SystemExit(f"warm-up run failed: {c.failure(events)}")
        fmt_key = c.reduce_run("bench", events).nodes["format"].key
        images_dir = cache / "artifacts" / fmt_key
        sizes = c.split_sizes(events)
        c.log(f"warm-up engine run {wall:.1f}s; split {sizes}")
        warm = plain_training(layers, images_dir, 1, args.batch_size, args.device)
        c.log(f"warm-up plain run {warm['seconds']:.1f}s")

        def engine_rep(rep: int, v: str) -> None:
            cpu0 = cpu_seconds(worker.pid)
            events, wall = c.run_in_worker(graph(args, v == "default", args.epochs), ["train"], mode="node",
                                           device=args.device, worker=worker)
            cpu[v].append(cpu_seconds(worker.pid) - cpu0)
            if c.failure(events):
                raise SystemExit(f"engine run failed: {c.failure(events)}")
            stats = c.trainer_stats(events, "train", sizes["train"])
            times[v].append(wall)
            node_s[v].append(stats["node_s"])
            loops[v].append(stats.get("loop_s") or float("nan"))
            acc[v] = stats["val_acc"]
            c.log(f"rep {rep} engine/{v}: {wall:.2f}s, {cpu[v][-1]:.1f} CPU s (trainer node {stats['node_s']:.2f}s, "
                  f"setup {stats.get('setup_s')}s, loop {stats.get('loop_s')}s) val_acc {stats['val_acc']}")

        def plain_rep(rep: int) -> None:
            res = plain_training(layers, images_dir, args.epochs, args.batch_size, args.device)
            times["plain"].append(res["seconds"])
            cpu["plain"].append(res["cpu_s"])
            loops["plain"].append(res["loop_s"])
            acc["plain"] = res["val_acc"]
            c.log(f"rep {rep} plain: {res['seconds']:.2f}s, {res['cpu_s']:.1f} CPU s, loop {res['loop_s']:.3f}s, "
                  f"val_acc {res['val_acc']}")

        for rep in range(1, args.reps + 1):
            # each repetition is a pair (engine runs and a plain run side by side); the order
            # alternates so that neither side always runs first after the other one's work
            if rep % 2:
                for v in variants:
                    engine_rep(rep, v)
                plain_rep(rep)
            else:
                plain_rep(rep)
                for v in variants:
                    engine_rep(rep, v)
    except c.Interrupted as err:
        partial = f"interrupted ({err}) with {({k: len(v) for k, v in times.items()})} runs"
        c.log(partial)
    finally:
        worker.close()
        import shutil

        shutil.rmtree(cache, ignore_errors=True)

    med = {k: round(c.median(v), 3) for k, v in times.items() if v}
    # the ratio: median over repetitions of engine / plain within the same repetition, which
    # cancels the slow drift of a shared machine; the ratio of the medians is given too
    paired = {v: [e / p for e, p in zip(times[v], times["plain"])] for v in variants}
    ratios = {v: round(c.median(r), 3) for v, r in paired.items() if r}
    ratio_of_medians = {v: round(med[v] / med["plain"], 3) for v in variants if v in med and "plain" in med}
    cpu_med = {k: round(c.median(v), 2) for k, v in cpu.items() if v}
    cpu_ratios = {v: round(cpu_med[v] / cpu_med["plain"], 3) for v in variants if v in cpu_med and "plain" in cpu_med}
    loop_med = {k: round(c.median(v), 3) for k, v in loops.items() if v}
    loop_ratios = {v: round(loop_med[v] / loop_med["plain"], 3) for v in variants if v in loop_med and "plain" in loop_med}
    # what a run costs besides its epoch loop, engine minus plain (plan, model file, result, events)
    fixed = {v: round((med[v] - loop_med[v]) - (med["plain"] - loop_med["plain"]), 3)
             for v in variants if v in med and "plain" in med}
    c.summary("engine_overhead", {
        "ratio_engine_over_plain": ratios,
        "paired_ratios": {v: [round(x, 3) for x in r] for v, r in paired.items()},
        "ratio_of_medians": ratio_of_medians,
        "cpu_ratio_engine_over_plain": cpu_ratios,
        "loop_ratio_engine_over_plain": loop_ratios,
        "extra_fixed_s": fixed,
        "target_le_1.05": {v: r <= 1.05 for v, r in ratios.items()},
        "median_s": med,
        "trainer_node_median_s": {v: round(c.median(x), 3) for v, x in node_s.items() if x},
        "runs_s": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "loop_s": {k: [round(x, 3) for x in v] for k, v in loops.items()},
        "cpu_s": {k: [round(x, 2) for x in v] for k, v in cpu.items()},
        "val_acc": acc,
        "config": {"backbone": args.backbone, "weights": args.weights, "size": args.size, "sizes": sizes,
                   "epochs": args.epochs, "batch_size": args.batch_size, "reps": args.reps, "device": args.device},
        "partial": partial, "load": {"before": load_before, "after": c.loadavg()}, "machine": c.machine(),
    })


if __name__ == "__main__":
    main()

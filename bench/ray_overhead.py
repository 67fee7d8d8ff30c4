"""7. The Ray executor against the embedded worker: the offline template to `train_finetuned`.

A loopback cluster (a head without CPUs and one worker node with all the machine's CPUs)
is started first and warmed up, as is the embedded worker: the benchmark measures a run on
a cluster that is already up, not its start. Each pair runs the same graph on both sides
(a fresh dataset seed per pair, so every node executes on both), the order alternating;
prints the median of the per-pair ratios ray / local (target <= 1.10).

The Ray side's extra work: preparing on the server, the driver hop, the actor's stream
through the object store, and every stored result and model file sent back to the
server's store.
"""
from __future__ import annotations

import argparse
import os
import shutil

import _common as c


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", default=str(c.DEFAULT_PHOTOS))
    p.add_argument("--max-per-class", type=int, default=0, help="0: all photos, as the template")
    p.add_argument("--epochs1", type=int, default=5)
    p.add_argument("--epochs2", type=int, default=3)
    p.add_argument("--size", type=int, default=150)
    p.add_argument("--pairs", type=int, default=2)
    args = p.parse_args()
    c.in_loopback_namespace_or_reexec()

    from backend.worker.cluster import RayWorker
    from backend.worker.local import LocalWorker
    from backend.worker.loopback import LoopbackCluster

    cpus = os.cpu_count() or 1
    load_before = c.loadavg()
    work = c.tmpdir("ray-overhead")
    times: dict[str, list[float]] = {"local": [], "ray": []}
    ratios: list[float] = []
    acc: dict[str, list[float]] = {}
    partial = None
    c.stop_on_sigterm()
    with LoopbackCluster() as cluster:
        cluster.start(workers=[cpus])
        os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("RAY_")})
        local = LocalWorker(work / "local")
        ray = RayWorker(cluster.address, work / "ray", cpus_per_run=cpus)
        try:
            local.start()
            ray.start()
            c.log(f"cluster {cluster.address} up; ray worker {ray.health().get('slots')} slot(s) of {cpus} CPUs")

            def graph(seed: int, small: bool = False) -> dict:
                g = c.offline_graph(args.root, epochs1=1 if small else args.epochs1,
                                    epochs2=1 if small else args.epochs2,
                                    max_per_class=20 if small else args.max_per_class, size=args.size)
                next(n for n in g["nodes"] if n["id"] == "dataset")["params"]["seed"] = seed
                return g

            def one(side: str, seed: int, small: bool = False) -> float:
                worker, cache = (local, work / "local") if side == "local" else (ray, work / "ray")
                events, wall = c.run_in_worker(graph(seed, small), ["train_finetuned"], worker=worker,
                                               cache_dir=cache)
                if c.failure(events):
                    raise SystemExit(f"{side} run failed: {c.failure(events)}")
                stats = c.trainer_stats(events, "train_finetuned", 1)
                acc[side] = stats.get("val_acc", [])
                c.log(f"  {side} seed {seed}: {wall:.2f}s val_acc {stats.get('val_acc')}")
                return wall

            # warm-up (untimed, 20 photos a class): both import torch, load the backbone, start the actor
            for side in ("local", "ray"):
                one(side, 1000, small=True)
            for pair in range(args.pairs):
                order = ("local", "ray") if pair % 2 == 0 else ("ray", "local")
                got = {side: one(side, 2000 + pair) for side in order}
                for side, wall in got.items():
                    times[side].append(wall)
                ratios.append(got["ray"] / got["local"])
                c.log(f"pair {pair + 1}: ray/local {ratios[-1]:.3f}")
        except c.Interrupted as err:
            partial = f"interrupted ({err}) after {len(ratios)} pairs"
        finally:
            local.close()
            ray.close()
            shutil.rmtree(work, ignore_errors=True)
    c.summary("ray_overhead", {
        "median_ratio_ray_over_local": c.r3(c.median(ratios)) if ratios else None,
        "target": "<= 1.10",
        "ratios": [c.r3(r) for r in ratios],
        "local_s": [c.r3(t) for t in times["local"]], "ray_s": [c.r3(t) for t in times["ray"]],
        "same_val_acc": acc.get("local") == acc.get("ray"), "val_acc": acc,
        "settings": vars(args), "partial": partial,
        "machine": c.machine(), "load_before": load_before, "load_after": c.loadavg(),
    })


if __name__ == "__main__":
    main()

"""8. Throughput on a Ray cluster: N small queued runs with 1 and with 2 slots.

A loopback cluster with one worker node of 2 CPUs; each slot is one actor reserving one
CPU (so torch uses one thread). The runs are handed out as the studio's dispatcher does:
whenever the worker reports a free slot, oldest first. Runs per minute with 2 slots over
runs per minute with 1 slot (target >= 1.7). The settings alternate between rounds. On a
GPU machine ``--gpus 1`` makes each slot one GPU instead (the cluster's worker node then
gets all the machine's GPUs).
"""
from __future__ import annotations

import argparse
import os
import shutil
import threading
import time

import _common as c


def run_queue(worker, graphs: list[dict], cache) -> float:
    """Hand out every graph as slots free up; seconds until the last run ended."""
    prepared = [c.prepare_run(g, ["train"], cache) for g in graphs]
    done: list[str] = []
    failures: list[str] = []
    threads = []
    t0 = time.perf_counter()

    def follow(run) -> None:
        for batch in worker.events(run.run_id):
            if batch[-1].type in ("run.finished", "run.failed", "run.cancelled"):
                if c.failure(batch) is not None:
                    failures.append(c.failure(batch))
                done.append(run.run_id)

    for run in prepared:
        while worker.free_slots() <= 0:
            time.sleep(0.02)
        worker.submit(run)
        thread = threading.Thread(target=follow, args=(run,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"runs failed: {failures[:3]}")
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=8, help="runs per round")
    p.add_argument("--rounds", type=int, default=2, help="rounds per setting, alternating")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--units", type=int, default=256, help="the Dense layer's width (its weights dominate a step)")
    p.add_argument("--size", type=int, default=128, help="image side in pixels (a run of a few seconds)")
    p.add_argument("--gpus", type=float, default=0.0, help="GPUs per slot (0: one CPU per slot)")
    args = p.parse_args()
    c.in_loopback_namespace_or_reexec()

    from backend.worker.cluster import RayWorker
    from backend.worker.loopback import LoopbackCluster
    from tests.conftest import make_image_folder, tiny_graph

    work = c.tmpdir("ray-throughput")
    images = make_image_folder(work / "images", per_class=12, size=(args.size + 16, args.size))
    load_before = c.loadavg()
    seconds: dict[int, list[float]] = {1: [], 2: []}
    c.stop_on_sigterm()
    with LoopbackCluster() as cluster:
        cluster.start(workers=[2])
        os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("RAY_")})
        workers = {slots: RayWorker(cluster.address, work / f"cache{slots}", cpus_per_run=1, gpus_per_run=args.gpus,
                                    max_runs=slots) for slots in (1, 2)}
        seed = 0

        def graphs(n: int) -> list[dict]:
            nonlocal seed
            out = []
            for _ in range(n):
                seed += 1   # every run executes (nothing cached): a new seed each
                g = tiny_graph(images, epochs=args.epochs, size=args.size)
                next(n for n in g["nodes"] if n["id"] == "train")["params"]["seed"] = seed
                next(n for n in g["nodes"] if n["id"] == "dense")["params"]["units"] = args.units
                out.append(g)
            return out

        try:
            for slots, worker in workers.items():
                worker.start()
                run_queue(worker, graphs(slots), work / f"cache{slots}")   # warm-up: the actors start
                worker.close()   # its actors give their CPUs back for the other setting
            for r in range(args.rounds):
                for slots in ((1, 2) if r % 2 == 0 else (2, 1)):
                    worker = workers[slots]
                    worker.start()
                    run_queue(worker, graphs(slots), work / f"cache{slots}")   # its actors are up
                    s = run_queue(worker, graphs(args.runs), work / f"cache{slots}")
                    worker.close()
                    seconds[slots].append(s)
                    c.log(f"round {r + 1}, {slots} slot(s): {args.runs} runs in {s:.1f}s "
                          f"({60 * args.runs / s:.1f} runs/min)")
        finally:
            for worker in workers.values():
                worker.close()
            shutil.rmtree(work, ignore_errors=True)
    per_min = {k: [60 * args.runs / s for s in v] for k, v in seconds.items()}
    ratio = c.median(per_min[2]) / c.median(per_min[1]) if per_min[1] and per_min[2] else None
    c.summary("ray_throughput", {
        "ratio_2_slots_over_1": c.r3(ratio), "target": ">= 1.7",
        "runs_per_min": {k: [round(x, 2) for x in v] for k, v in per_min.items()},
        "settings": vars(args), "machine": c.machine(), "load_before": load_before, "load_after": c.loadavg(),
    })


if __name__ == "__main__":
    main()

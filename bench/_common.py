"""Helpers shared by the benchmarks: paths, graphs, running a graph in a fresh worker, and
turning a run's events into timings and accuracies.

Each benchmark prints progress on stderr and ONE summary line (a JSON object) on stdout.
Benchmarks compare against a baseline in the same invocation and report ratios.
"""
from __future__ import annotations

import copy
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python3 bench/X.py` works from anywhere, no console script needed
    sys.path.insert(0, str(REPO))

from backend.engine import events as ev  # noqa: E402  (after the path is set)
from backend.engine.reduce import reduce_run  # noqa: E402
from backend.engine.summaries import DatasetSummary  # noqa: E402

OFFLINE_TEMPLATE = REPO / "templates" / "model_optimization_finetuning_offline.json"
DEFAULT_PHOTOS = next((p for p in (REPO / ".data" / "cats_vs_dogs", REPO.parent / "shared" / "data" / "cats_vs_dogs")
                       if p.is_dir()), REPO.parent / "shared" / "data" / "cats_vs_dogs")
BACKBONES = {
    "lite0": ("backbones.EfficientNetLite0", ["block7a", "top"]),
    "vgg16": ("backbones.VGG16", ["block5_conv1", "block5_conv2", "block5_conv3"]),
}

_T0 = time.monotonic()


class Interrupted(Exception):
    """SIGTERM (e.g. from `timeout`): stop measuring, print what was measured so far."""


def stop_on_sigterm() -> None:
    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second one ends the process
        raise Interrupted(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def log(*parts: Any) -> None:
    print(f"[{time.monotonic() - _T0:7.1f}s]", *parts, file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    try:
        return [round(float(x), 2) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    """Where the figures come from (torch is imported only if the caller already did)."""
    out: dict[str, Any] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    try:
        import subprocess

        out["commit"] = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                                       capture_output=True, text=True, timeout=10).stdout.strip() or None
    except Exception:
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch"] = torch.__version__
        out["threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            out["gpu"] = torch.cuda.get_device_name(0)
    return out


def summary(name: str, fields: dict[str, Any]) -> None:
    """The one line on stdout."""
    line = {"bench": name, **fields}
    print(json.dumps(line, ensure_ascii=False, default=_jsonable), flush=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def r3(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


# ----------------------------------------------------------------------------- graphs
def offline_graph(root: Path | str, *, epochs1: int, epochs2: int, max_per_class: int | None,
                  backbone: str = "lite0", weights: str = "imagenet", size: int = 150,
                  feature_cache: bool = True, seed: int = 42) -> dict[str, Any]:
    """The offline template with the benchmark's settings (the backbone node keeps its id)."""
    g = json.loads(OFFLINE_TEMPLATE.read_text(encoding="utf-8"))
    comp, fine_tune = BACKBONES[backbone]
    for node in g["nodes"]:
        nid, p = node["id"], node["params"]
        if nid == "backbone":
            node["type"] = comp
            node["params"] = {"weights": weights, "feature_extractor": True, "fine_tune_layers": fine_tune}
        elif nid == "dataset":
            p["root"] = str(Path(root).expanduser().resolve())
            if max_per_class:
                p["max_per_class"] = max_per_class
        elif nid in ("input", "format"):
            p["height"] = p["width"] = size
        elif nid == "train":
            p.update(epochs=epochs1, feature_cache=feature_cache, seed=seed)
        elif nid == "train_finetuned":
            p.update(epochs=epochs2, feature_cache=feature_cache, seed=seed)
    return g


# ------------------------------------------------------------------------ running
def run_in_worker(graph: dict[str, Any], targets: list[str], *, device: str = "auto",
                  cache_dir: Path | None = None, mode: str = "to", worker=None,
                  on_event: Callable[[ev.Event], None] | None = None) -> tuple[list[ev.Event], float]:
    """Run a graph in a worker (a fresh embedded one unless ``worker`` is given), prepared by
    the run service as the CLI and the server do; returns (events, wall seconds from submit
    to the terminal event). The worker executes even what is stored, as a benchmark wants."""
    from backend.worker.local import LocalWorker

    own = worker is None
    if own:
        cache_dir = cache_dir or Path(tempfile.mkdtemp(prefix="abacus-bench-cache-"))
        worker = LocalWorker(cache_dir)
    prepared = prepare_run(graph, targets, Path(cache_dir or getattr(worker, "cache_dir")), mode=mode, device=device)
    events: list[ev.Event] = []
    t0 = time.perf_counter()
    try:
        for e in worker.run(prepared):
            events.append(e)
            if on_event:
                on_event(e)
        wall = time.perf_counter() - t0
    finally:
        if own:
            worker.close()
    return events, wall


def print_progress(e: ev.Event) -> None:
    """stderr lines for the events a person wants to see while waiting."""
    match e:
        case ev.NodeMetrics():
            log(f"  {e.node} epoch {e.epoch}: " + " ".join(f"{k}={v:.4f}" for k, v in e.metrics.items() if v is not None))
        case ev.NodeLog():
            log(f"  {e.node}: {e.message}")
        case ev.NodeFinished():
            log(f"  {e.node} finished in {e.seconds:.1f}s")
        case ev.NodeFailed() | ev.RunFailed():
            log(f"  FAILED {e.node or 'run'}: {e.code}: {e.message}")
            if e.debug:
                log(e.debug[-2000:])


def final_status(events: list[ev.Event]) -> str:
    return reduce_run("bench", events).status if events else "no_events"


def failure(events: list[ev.Event]) -> str | None:
    if not events:
        return "no events"
    error = reduce_run("bench", events).error
    return None if error is None else f"{error.code}: {error.message}"


def split_sizes(events: list[ev.Event]) -> dict[str, int]:
    dataset = reduce_run("bench", events).outputs("dataset").get("dataset")
    return dict(dataset.sizes) if isinstance(dataset, DatasetSummary) else {}


def trainer_stats(events: list[ev.Event], node: str, n_train: int) -> dict[str, Any]:
    """Accuracies and timings of one trainer node from its events.

    loop_s: the epoch loop (training and validation passes), from the first batch to the
    last epoch's metrics, plus one median step for the first batch (its progress event
    comes at its end). setup_s: from the node's start to its first batch (image decoding, feature cache,
    model building). ips: training images per second of the loop; node_ips: the same over
    the whole node (setup included).
    """
    mine = [e for e in events if getattr(e, "node", None) == node]
    started = next((e.ts for e in mine if isinstance(e, ev.NodeStarted)), None)
    finished = next((e for e in mine if isinstance(e, ev.NodeFinished)), None)
    epoch_progress = [e for e in mine if isinstance(e, ev.NodeProgress) and (e.phase or "").startswith("epoch ")]
    metrics = [e for e in mine if isinstance(e, ev.NodeMetrics)]
    out: dict[str, Any] = {}
    if metrics:
        val_acc = [m.metrics.get("val_accuracy") or 0.0 for m in metrics]
        out["val_acc"] = [round(a, 4) for a in val_acc]
        out["best_val_acc"] = round(max(val_acc), 4)
    if finished:
        out["node_s"] = r3(finished.seconds)
    if epoch_progress and metrics and started is not None:
        # the first batch ends at the first progress event: add one typical step for it
        gaps = [b.ts - a.ts for a, b in zip(epoch_progress, epoch_progress[1:]) if a.phase == b.phase]
        step = statistics.median(gaps) if gaps else 0.0
        first = epoch_progress[0].ts - step
        loop = metrics[-1].ts - first
        out["setup_s"] = r3(max(0.0, first - started))
        out["loop_s"] = r3(loop)
        out["ips"] = round(n_train * len(metrics) / loop, 1) if loop > 0 else None
        if finished:
            out["node_ips"] = round(n_train * len(metrics) / finished.seconds, 1)
    notes = [e.cache for e in mine if isinstance(e, ev.NodeLog) and e.cache is not None and e.cache.cache == "features"]
    if notes:
        out["feature_cache"] = ["built" if n.built else ("off" if not n.enabled else "reused") for n in notes]
    return out


def tmpdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"abacus-bench-{prefix}-"))


# ------------------------------------------------------------------------ Ray clusters
def in_loopback_namespace_or_reexec() -> None:
    """Ray benchmarks run in a network namespace with only loopback (Ray would advertise the
    machine's own address): as root, re-run this script inside ``unshare -n``."""
    from backend.worker.loopback import in_loopback_namespace

    if in_loopback_namespace():
        return
    if os.geteuid() != 0:
        raise SystemExit("this benchmark needs root (unshare -n) or a loopback-only network namespace")
    import shlex

    inner = "ip link set lo up && exec " + " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    os.execvp("unshare", ["unshare", "-n", "bash", "-c", inner])


def prepare_run(graph: dict[str, Any], targets: list[str], cache_dir: Path, *, mode: str = "to",
                device: str = "auto") -> Any:
    """A run prepared by the run service against the store in ``cache_dir``."""
    import components
    from backend.runs import RunService
    from backend.store.artifacts import FileResultStore

    from backend.settings import Settings

    settings = Settings().run_settings().model_copy(update={"device": device})   # ABACUS_AMP, _THREADS apply
    service = RunService(components.registry, FileResultStore(cache_dir), worker_settings=settings)
    return service.prepare(copy.deepcopy(graph), targets, mode, run_id=uuid.uuid4().hex[:12])

"""A worker's speed, measured in its earlier runs: what the editor's time per epoch is
calibrated with.

Each trainer of a stored run gives a sample: its epochs' durations (the time between its
``node.metrics`` events) against the multiply-adds of an epoch of that run's graph, and its
feature pass (the ``features`` progress events) against the frozen front's multiply-adds.
Ended runs never change, so each is read once and remembered.
"""
from __future__ import annotations

import statistics
import threading
from typing import Any, Iterable

from backend.engine import Graph, validate
from backend.engine import events as ev
from backend.engine.cost import DEFAULT_SPEED, SpeedFigure, SpeedSample, combine_samples, trainer_work

ENDED = ("finished", "failed", "cancelled", "interrupted")


def worker_key(kind: str, device: str | None) -> str:
    """local/cpu, local/gpu, ray/gpu, ...: runs on the same kind of worker and device share a speed."""
    return f"{kind}/{'gpu' if (device or '').startswith('cuda') else 'cpu'}"


def run_samples(graph_json: dict[str, Any], events: Iterable[ev.Event], registry: Any) -> list[SpeedSample]:
    """The speed samples of one run's trainers (none when nothing was measured)."""
    events = list(events)
    kind = next((e.worker.kind for e in events if isinstance(e, ev.RunStarted) and e.worker), None)
    devices = {e.node: str(e.params.get("device", "")) for e in events
               if isinstance(e, ev.NodeLog) and e.code == "training_stages"}
    if kind is None or not devices:
        return []
    try:
        graph = Graph.model_validate(graph_json)
        v = validate(graph, registry)
    except Exception:   # a graph an older version stored: nothing to learn from it
        return []
    out = []
    for trainer, device in devices.items():
        sample = _trainer_sample(graph, v, registry, trainer, events, worker_key(kind, device))
        if sample is not None:
            out.append(sample)
    return out


def _images_sizes(v: Any, trainer: str, events: list[ev.Event]) -> dict[str, int] | None:
    source = v.inputs.get(trainer, {}).get("images")
    for e in events:
        if isinstance(e, (ev.NodeFinished, ev.NodeCached)) and source and e.node == source[0]:
            summary = e.summary.get(source[1])
            sizes = getattr(summary, "sizes", None)
            if sizes:
                return dict(sizes)
    return None


def _trainer_sample(graph: Graph, v: Any, registry: Any, trainer: str, events: list[ev.Event],
                    worker: str) -> SpeedSample | None:
    sizes = _images_sizes(v, trainer, events)
    if not sizes:
        return None
    work = trainer_work(graph, v, registry, trainer, sizes.get("train", 0), sizes.get("validation", 0))
    if work is None:
        return None
    train_macs, train_seconds = _training_steps(trainer, events, v.params[trainer].batch_size,
                                                work.train_macs_per_image)
    if not train_seconds:   # too few progress events: whole epochs, from one's metrics to the next's
        stamps = [e.ts for e in events if isinstance(e, ev.NodeMetrics) and e.node == trainer and not e.resumed]
        epochs = [b - a for a, b in zip(stamps, stamps[1:]) if b > a]
        train_macs, train_seconds = (work.epoch_macs, statistics.median(epochs)) if epochs else (0, 0.0)
    feature_images, feature_seconds = _feature_pass(trainer, events)
    return SpeedSample(worker=worker, train_macs=train_macs, train_seconds=train_seconds,
                       feature_macs=feature_images * work.prefix_macs if work.prefix else 0,
                       feature_seconds=feature_seconds)


def _training_steps(trainer: str, events: list[ev.Event], batch: int, macs_per_image: int) -> tuple[int, float]:
    """(multiply-adds, seconds) of the training steps, from each epoch's first progress event
    to its last: the steps alone, without what an epoch adds once (its validation pass, its
    checkpoint), which would make a small dataset's speed look far lower than a large one's."""
    by_epoch: dict[int, list[ev.NodeProgress]] = {}
    for e in events:
        if isinstance(e, ev.NodeProgress) and e.node == trainer and e.code == "epoch" and e.epoch:
            by_epoch.setdefault(e.epoch, []).append(e)
    steps, seconds = 0, 0.0
    for progress in by_epoch.values():
        first, last = progress[0], progress[-1]
        if last.ts > first.ts and last.step > first.step:
            steps += last.step - first.step
            seconds += last.ts - first.ts
    return steps * batch * macs_per_image, seconds


def _feature_pass(trainer: str, events: list[ev.Event]) -> tuple[int, float]:
    """(images, seconds) of the trainer's feature passes: from each split's first progress
    event to its last (the first batch's time is left out with its images)."""
    by_split: dict[str, list[ev.NodeProgress]] = {}
    for e in events:
        if isinstance(e, ev.NodeProgress) and e.node == trainer and e.code == "features":
            by_split.setdefault(e.split or "", []).append(e)
    images, seconds = 0, 0.0
    for progress in by_split.values():
        first, last = progress[0], progress[-1]
        if last.ts > first.ts and last.step > first.step:
            images += last.step - first.step
            seconds += last.ts - first.ts
    return images, seconds


class SpeedBook:
    """The samples of the studio's recent ended runs, each run read once."""

    def __init__(self, recent: int = 50) -> None:
        self.recent = recent
        self._samples: dict[str, list[SpeedSample]] = {}
        self._lock = threading.Lock()

    def samples(self, runs: Any, events: Any, registry: Any) -> list[SpeedSample]:
        out = []
        for run in runs.list(limit=self.recent):
            if run.status not in ENDED:
                continue
            with self._lock:
                known = self._samples.get(run.id)
            if known is None:
                known = run_samples(run.graph, events.after(run.id), registry)
                with self._lock:
                    self._samples[run.id] = known
            out.extend(known)
        return out

    def figure(self, runs: Any, events: Any, registry: Any, kind: str, device: str) -> SpeedFigure:
        """The speed of the studio's worker (``kind``: local or ray; ``device``: its setting):
        measured when it has trained before, else the default figure (labelled so). With the
        device on auto, the device its latest measured run trained on."""
        samples = self.samples(runs, events, registry)
        if device == "auto":
            mine = [s.worker for s in samples if s.worker.startswith(f"{kind}/")]
            key = mine[0] if mine else worker_key(kind, "cpu")
        else:
            key = worker_key(kind, device)
        measured = combine_samples(samples, key)
        if measured is not None:
            return measured
        return DEFAULT_SPEED[key.split("/")[1]].model_copy(update={"worker": key})

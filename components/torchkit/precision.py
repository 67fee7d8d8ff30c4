"""The precision a trainer's forward passes run in, chosen per device by measuring it.

bf16 autocast is not faster everywhere: on an H200 at batch 20 a whole run took longer in
bf16 than in float32 with TF32 matmuls (bench/gpu.sh), and CPUs without bf16 instructions
lose with it. So on a GPU the trainer times one forward pass of a real batch in each
precision and keeps the faster one; a CPU keeps float32 (its results stay what they were)
unless the setting ``measure`` asks for the measurement there too. A worker process measures
a model and batch shape once: a warm worker reuses its choice (``CHOICES``).
"""
from __future__ import annotations

import hashlib
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
import torch.nn as nn

from backend.engine.settings import AmpSetting


@dataclass(frozen=True)
class Choice:
    """A precision ("float32" or "bfloat16") and how it was chosen: "measured", "setting"
    (the run's amp setting named it) or "cpu default"."""
    precision: str
    how: str
    timings: dict[str, float] = field(default_factory=dict)   # ms per forward pass, per candidate
    reason: str = ""

    def timings_text(self) -> str:
        """The timings as a person reads them: "float32 6.1 ms, bfloat16 4.2 ms" ("" when none)."""
        return ", ".join(f"{p} {ms:.1f} ms" for p, ms in self.timings.items())


CHOICES: dict[tuple, Choice] = {}   # this process's measurements, by device, model and batch shape


def autocast(device: torch.device, precision: str):
    """The autocast context forward passes run in under ``precision``."""
    if precision == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


MARGIN = 0.9   # another candidate replaces the first only when it takes at most 90 % of its time


def measure(run: Callable[[str], object], candidates: Iterable[str], repeats: int = 3) -> Choice:
    """Time ``run(precision)`` for each candidate (once to warm up: kernels picked, memory
    allocated; then the median of ``repeats``) and keep the fastest, with the first candidate
    (float32) kept unless another is clearly faster (``MARGIN``): near a tie, timings that
    wander would otherwise pick a different precision from one worker to the next, and a
    different precision is a different feature cache and different numbers."""
    timings: dict[str, float] = {}
    for precision in candidates:
        run(precision)
        times = []
        for _ in range(repeats):
            _synchronize()
            t0 = time.perf_counter()
            run(precision)
            _synchronize()   # a GPU's kernels are queued: the time is theirs only once they are done
            times.append(time.perf_counter() - t0)
        timings[precision] = statistics.median(times) * 1000
    first = next(iter(timings))
    best = min(timings, key=timings.__getitem__)
    if timings[best] > MARGIN * timings[first]:
        best = first
    others = [f"{timings[p] / timings[best]:.2f}x the time in {p}" for p in timings if p != best]
    reason = (f"{best} was the fastest" if best == min(timings, key=timings.__getitem__)
              else f"{best} kept: the others were less than {round((1 - MARGIN) * 100)} % faster")
    reason += f" ({', '.join(others)})" if others else ""
    return Choice(best, "measured", timings, reason)


def choose(device: torch.device, amp: AmpSetting, stages: list[nn.Module], sample: torch.Tensor, *,
           cache: dict[tuple, Choice]) -> Choice:
    """The precision a trainer runs in on ``device`` under the amp setting.

    off and bf16 name it (bf16 falls back to float32 on a GPU without bf16, as ``amp_dtype``
    does); auto keeps float32 on a CPU without measuring and measures on a GPU; measure
    measures on any device. A measurement runs ``sample`` (a batch of the real input size, on
    ``device``) through ``stages`` in float32 and, where the device has it, in bf16, and is
    kept in ``cache`` under the device, the stages' signature and the batch's shape.
    """
    if amp == "off":
        choice = Choice("float32", "setting", reason="amp is off")
    elif amp == "bf16":
        choice = Choice("bfloat16", "setting", reason="amp is bf16") if _has_bf16(device) \
            else Choice("float32", "setting", reason="amp is bf16, but this GPU has no bf16")
    elif amp == "auto" and device.type != "cuda":
        choice = Choice("float32", "cpu default", reason="bf16 is slower on CPUs without bf16 instructions "
                                                         "and changes the numbers")
    else:
        key = (device.type, _device_name(device), _signature(stages), tuple(sample.shape))
        if key not in cache:
            cache[key] = _measured(device, stages, sample)
        choice = cache[key]
    if device.type == "cuda" and choice.precision == "float32" and amp != "off":
        _allow_tf32()   # off keeps full float32 (torch's defaults)
    return choice


def _measured(device: torch.device, stages: list[nn.Module], sample: torch.Tensor) -> Choice:
    if device.type == "cuda":
        _allow_tf32()   # float32 competes as it would run: with TF32 matmuls and convolutions
    candidates = ["float32", "bfloat16"] if _has_bf16(device) else ["float32"]

    @torch.no_grad()
    def run(precision: str) -> None:
        with autocast(device, precision):
            x = sample
            for stage in stages:
                x = stage(x)

    with _inference_mode(stages):
        choice = measure(run, candidates)
    if len(candidates) == 1:
        return Choice(choice.precision, choice.how, choice.timings, "this GPU has no bf16")
    return choice


@contextmanager
def _inference_mode(stages: list[nn.Module]):
    """The stages in inference mode while they are timed (batch normalization keeps its
    statistics, dropout draws nothing), then in their modes again."""
    modes = [(m, m.training) for stage in stages for m in stage.modules()]
    for stage in stages:
        stage.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.train(training)


def _has_bf16(device: torch.device) -> bool:
    return device.type != "cuda" or torch.cuda.is_bf16_supported()


def _allow_tf32() -> None:
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True


def _synchronize() -> None:
    if torch.cuda.is_initialized():
        torch.cuda.synchronize()


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else device.type


def _signature(stages: list[nn.Module]) -> str:
    """The stages' classes and parameter shapes: what makes one model's forward pass cost
    what another's does (their weights do not)."""
    h = hashlib.sha256()
    for stage in stages:
        for name, module in stage.named_modules():
            h.update(f"{name}:{type(module).__name__};".encode())
        for name, p in stage.named_parameters():
            h.update(f"{name}:{tuple(p.shape)};".encode())
    return h.hexdigest()

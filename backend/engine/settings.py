"""What a run knows of the machine it runs on: device, CPU threads, mixed precision, pace, and
the data roots its files must lie in.

The studio's ``Settings`` (environment variables ABACUS_*) make one for each run; it travels
with the prepared run to the worker, and components read it as ``ctx.settings``: they never
read the environment themselves.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# "auto" (a GPU when there is one), "cpu", "cuda" or "cuda:N"
DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?)$"

AmpSetting = Literal["auto", "off", "bf16", "measure"]


class RunSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str = Field("auto", pattern=DEVICE_PATTERN,
                        description="auto, cpu, cuda or cuda:N: where components train and predict")
    threads: int = Field(0, ge=0, description="CPU threads for torch; 0 uses every core")
    amp: AmpSetting = Field(
        "auto", description="Mixed precision. auto: trainers on a GPU time a forward pass in float32 (TF32) "
                            "and bf16 and keep the faster, float32 on a CPU; off: float32 everywhere; bf16: "
                            "also on a CPU (it pays off only with bf16 instructions); measure: time both on "
                            "any device")
    progress_interval_s: float = Field(
        0.0, ge=0, description="Send a node's progress at most this often (first and last step of a "
                               "phase always); 0 sends every call")
    data_roots: tuple[str, ...] | None = Field(
        None, exclude_if=lambda v: v is None,  # the command line's runs cross as they always did
        description="Folders every file a run reads must resolve inside (links followed); the "
                    "run service sets them from its data-root policy. None (the command line) "
                    "trusts every path")
    resume: bool = Field(
        False, exclude_if=lambda v: not v,
        description="Trainers continue from their last checkpoint (the last completed epoch under their "
                    "cache key) instead of from epoch 1: a resumed run, or abacus run --resume")
    train_step_delay_s: float = Field(
        0.0, ge=0, exclude_if=lambda v: not v,
        description="Fault injection for tests, never for use: a trainer sleeps this long after each batch, "
                    "so that a test can kill a run in a chosen epoch")


MB = 1024 * 1024


class WorkerMemory(BaseModel):
    """How much a worker keeps in memory between runs (``Settings.worker_memory()``). It is
    handed to the worker process when it starts (a run's ``RunSettings`` travel with each run);
    least recently used entries go first, sized by the bytes of their tensors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    results_bytes: int = Field(1024 * MB, ge=0, description="Node outputs kept for the next runs; 0 keeps none "
                                                            "(stored results are then read from disk)")
    models_bytes: int = Field(512 * MB, ge=0, description="Models loaded for predictions")


GB = 1024 * MB
MAX_GB = 1e6                       # a cache budget's largest size in GB (a petabyte): finite, an int in bytes
MAX_KEEP_S = 10 * 365 * 86400.0    # the longest "used lately" (ten years)


class CacheBudget(BaseModel):
    """What the result store may keep on disk (``Settings.cache_budget()``): after a run, least
    recently used entries are removed until it fits (``backend/store/cache_budget.py``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(20 * GB, ge=0, description="The store's size limit; 0: none")
    min_free_bytes: int = Field(1 * GB, ge=0, description="Free space kept on the store's disk; 0: none")
    keep_recent_s: float = Field(600.0, ge=0, le=MAX_KEEP_S, description="What a run used this recently is never "
                                                                         "removed")

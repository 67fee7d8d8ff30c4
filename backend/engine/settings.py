"""What a run knows of the machine it runs on: device, CPU threads, mixed precision, pace.

The studio's ``Settings`` (environment variables ABACUS_*) make one for each run; it travels
with the prepared run to the worker, and components read it as ``ctx.settings``: they never
read the environment themselves.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# "auto" (a GPU when there is one), "cpu", "cuda" or "cuda:N"
DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?)$"

AmpSetting = Literal["auto", "off", "bf16"]


class RunSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str = Field("auto", pattern=DEVICE_PATTERN,
                        description="auto, cpu, cuda or cuda:N: where components train and predict")
    threads: int = Field(0, ge=0, description="CPU threads for torch; 0 uses every core")
    amp: AmpSetting = Field(
        "auto", description="Mixed precision. auto: bf16 autocast on GPUs that support it; off: float32 "
                            "everywhere; bf16: also on a CPU (it pays off only with bf16 instructions)")
    progress_interval_s: float = Field(
        0.0, ge=0, description="Send a node's progress at most this often (first and last step of a "
                               "phase always); 0 sends every call")

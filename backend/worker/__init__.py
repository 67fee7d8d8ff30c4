"""Workers: where prepared runs execute. The caller holds a ``Worker`` and knows no concrete class."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .base import Worker, WorkerError

if TYPE_CHECKING:
    from backend.settings import Settings


def make_worker(settings: "Settings", cache_dir: str | os.PathLike | None = None) -> Worker:
    """The worker the settings ask for (``executor``: local or ray), storing results in ``cache_dir``."""
    cache = str(cache_dir if cache_dir is not None else settings.cache_dir)
    if settings.executor == "ray":
        from .cluster import RayWorker

        return RayWorker(settings.ray_address or "", cache, cpus_per_run=settings.ray_cpus_per_run,
                         gpus_per_run=settings.ray_gpus_per_run, max_runs=settings.ray_max_runs,
                         worker_cache=settings.ray_worker_cache, idle_s=settings.ray_idle_s,
                         memory=settings.worker_memory(), budget=settings.cache_budget())
    from .local import LocalWorker

    return LocalWorker(cache, settings.worker_memory(), max_file_bytes=settings.worker_max_file_bytes)


__all__ = ["Worker", "WorkerError", "make_worker"]

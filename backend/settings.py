"""One settings object, from environment variables prefixed ABACUS_."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.engine.settings import (
    DEVICE_PATTERN, GB, MAX_GB, MAX_KEEP_S, MB, AmpSetting, CacheBudget, RunSettings, WorkerMemory,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABACUS_")

    home: Path = Field(Path("var"), description="Where results, artifacts and the database live")
    # -- what runs see (``run_settings``) --------------------------------------------
    device: str = Field("auto", pattern=DEVICE_PATTERN, description="auto, cpu or cuda[:N]: where the worker trains")
    threads: int = Field(0, ge=0, description="CPU threads for torch; 0 uses every core")
    amp: AmpSetting = Field(
        "auto", description="Mixed precision: auto (on a GPU, bf16 or float32 with TF32, whichever a timed "
                            "forward pass finds faster; float32 on a CPU), off, bf16 (also on a CPU), or measure "
                            "(time both on any device); 1 and 0 are read as auto and off")

    # -- what a worker keeps in memory (``worker_memory``) ----------------------------------
    worker_memory_mb: int = Field(
        1024, ge=0, description="MB of node outputs a worker keeps in memory between runs, least recently used "
                                "dropped first (stored results stay on disk); 0 keeps none")
    worker_models_mb: int = Field(512, ge=0, description="MB of models a worker keeps loaded for predictions")

    # -- what the result store keeps on disk (``cache_budget``) -------------------------------
    cache_max_gb: float = Field(
        20.0, ge=0, le=MAX_GB, description="GB the result store ($ABACUS_HOME/cache, and each Ray node's worker cache) may "
                                "keep; after a run, least recently used entries are removed until it fits, trained "
                                "models last; 0: no limit")
    cache_min_free_gb: float = Field(
        1.0, ge=0, le=MAX_GB, description="GB kept free on the store's disk, by removing entries as for cache_max_gb; 0: none")
    cache_keep_recent_s: float = Field(
        600.0, ge=0, le=MAX_KEEP_S, description="An entry a run used this recently is never removed (another run may be reading "
                                 "it)")

    # -- where runs execute ---------------------------------------------------------------
    executor: Literal["local", "ray"] = Field(
        "local", description="local: an embedded worker process; ray: actors on a Ray cluster")
    ray_address: str | None = Field(None, description="The Ray cluster's address (HOST:PORT of its head)")
    ray_cpus_per_run: float = Field(1.0, gt=0, description="CPUs a run's actor reserves on the cluster")
    ray_gpus_per_run: float = Field(1.0, ge=0, description="GPUs a run's actor reserves when the cluster has GPUs")
    ray_max_runs: int = Field(0, ge=0, description="Most runs at once on the cluster; 0: as many as it has room for")
    ray_idle_s: float = Field(300.0, gt=0, description="An actor idle this long gives its CPUs/GPUs back to the cluster")
    ray_worker_cache: str | None = Field(
        None, description="Results and feature caches on each Ray worker node; default: a folder in its temp dir")

    # -- the studio server ----------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the server binds; not loopback requires a token")
    port: int = Field(8000, ge=0, le=65535, description="Port the server binds")
    db_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite at $ABACUS_HOME/abacus.db")
    token: str | None = Field(None, description="Access token every HTTP request and websocket must carry")
    data_roots: list[Path] = Field(
        default_factory=list,
        description="Folders datasets and weight files may be read from; "
                    "default: $ABACUS_HOME/data and ./data")
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1,
                                  description="Largest accepted upload (an image to predict, a model file to import)")
    max_dataset_upload_mb: int = Field(
        2048, ge=1, description="Largest dataset archive (zip or tar of class folders) accepted, in MB, counted as "
                                "it streams")
    max_dataset_unpacked_mb: int = Field(8192, ge=1, description="Largest total size of a dataset archive's files "
                                                                 "once unpacked, in MB")
    max_dataset_files: int = Field(200_000, ge=1, description="Most entries (files and folders) in a dataset archive")
    max_dataset_ratio: float = Field(
        100.0, gt=1, description="Largest unpacked-to-packed size ratio of a dataset archive (or of one of its "
                                 "files); photos hardly compress, a zip bomb does")
    max_body_bytes: int = Field(
        16 * 1024 * 1024, ge=1, description="Largest accepted request body of any kind, counted as it streams "
                                            "(chunked too); at least max_upload_bytes plus 64 KiB of form framing")
    max_json_depth: int = Field(64, ge=1, le=200, description="Deepest nesting of arrays and objects accepted in a "
                                                              "JSON request body")
    progress_coalesce_s: float = Field(
        0.1, ge=0, description="Websocket: send only the latest node.progress per node within this window "
                               "(0 sends every one)")
    version_coalesce_s: float = Field(
        60.0, ge=0, description="An editor's save this soon after its previous one replaces the project's latest "
                                "graph version instead of adding one (unless a run used it); 0 keeps every save")
    version_coalesce_max_s: float = Field(
        600.0, ge=0, description="A version first saved longer ago than this is never replaced: a long editing "
                                 "session still leaves a version this often")
    auto_resume: int = Field(
        1, ge=0, description="After its worker died, a run is resumed by itself (a new run continuing from the "
                             "trainers' checkpoints) at most this many times in a row; then it stays failed, "
                             "with resume offered. 0: never")
    train_step_delay_s: float = Field(
        0.0, ge=0, description="Fault injection for tests, never for use: trainers sleep this long after each "
                               "batch (so a test can kill a run in a chosen epoch)")
    frontend_dir: Path | None = Field(None, description="Built editor to serve at /; default frontend/dist")
    weights_catalog: Path | None = Field(
        None, description="A JSON weights catalog used instead of the built-in one "
                          "(components/backbones/weights_catalog.json)")
    weights_mirror: str | None = Field(
        None, description="Base URL pretrained weight files are downloaded from instead of their published URL "
                          "(the file name is appended): a mirror for machines behind a proxy")
    predict_timeout_s: float = Field(120.0, gt=0, description="How long a prediction may take")
    mlflow_tracking_uri: str | None = Field(
        None, description="Log each finished trainer to MLflow here (file:///path/mlruns: a local file store, no "
                          "server; or http://host:5000): its parameters, per-epoch metrics and model file, in an "
                          "experiment named after the project (backend/runs/mlflow_export.py); unset: no export")
    export_timeout_s: float = Field(
        300.0, gt=0, description="How long a model file's ONNX export (or its import as a stored result) may take")
    worker_max_file_bytes: int = Field(
        0, ge=0, description="Fault injection for tests, never for use: the embedded worker may write no file "
                             "larger than this (RLIMIT_FSIZE; writes past it fail with EFBIG, as on a full "
                             "disk); 0: no limit")

    @field_validator("amp", mode="before")
    @classmethod
    def _amp_switch(cls, value: object) -> object:
        # ABACUS_AMP was a switch before it named a precision: 1 (the default) and 0 still work
        return {"1": "auto", "0": "off"}.get(str(value), value)

    @model_validator(mode="after")
    def _defaults(self):
        if not self.data_roots:
            self.data_roots = [self.home / "data", Path("data")]
        self.data_roots = [Path(p).expanduser().absolute() for p in self.data_roots]
        return self

    @model_validator(mode="after")
    def _ray_needs_an_address(self):
        if self.executor == "ray" and not self.ray_address:
            raise ValueError("the ray executor needs the cluster's address: --ray-address HOST:PORT "
                             "(or ABACUS_RAY_ADDRESS)")
        return self

    def run_settings(self) -> RunSettings:
        """What every run gets to know of the machine (components read it as ``ctx.settings``)."""
        return RunSettings(device=self.device, threads=self.threads, amp=self.amp,
                           train_step_delay_s=self.train_step_delay_s)

    def worker_memory(self) -> WorkerMemory:
        """What a worker keeps in memory; handed to it when it starts."""
        return WorkerMemory(results_bytes=self.worker_memory_mb * MB, models_bytes=self.worker_models_mb * MB)

    def cache_budget(self) -> CacheBudget:
        """What the result store may keep; handed to workers when they start."""
        return CacheBudget(max_bytes=int(self.cache_max_gb * GB), min_free_bytes=int(self.cache_min_free_gb * GB),
                           keep_recent_s=self.cache_keep_recent_s)

    @property
    def body_limit_bytes(self) -> int:
        """The request body limit: max_body_bytes, raised to let a whole upload and its form framing in."""
        return max(self.max_body_bytes, self.max_upload_bytes + 64 * 1024)

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'abacus.db').absolute()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()

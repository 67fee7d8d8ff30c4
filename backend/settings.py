"""One settings object, from environment variables prefixed ABACUS_."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABACUS_")

    home: Path = Field(Path("var"), description="Where results, artifacts and the database live")
    device: str = Field("auto", description="auto, cpu or cuda[:N]: where the worker trains")
    threads: int = Field(0, description="CPU threads for torch; 0 uses every core")

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"


@lru_cache
def get_settings() -> Settings:
    return Settings()

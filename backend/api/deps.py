"""The services a request needs, built once per app and injected (never module globals)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from backend.engine import Registry
from backend.runs import RunService
from backend.runs.speed import SpeedBook
from backend.settings import Settings
from backend.store.artifacts import FileResultStore
from backend.store.db import Database
from backend.store.projects import ProjectStore
from backend.store.artifact_index import ArtifactIndex
from backend.store.events import EventLog
from backend.store.runs import RunQueue

from .broadcast import Broadcaster
from .dispatcher import Dispatcher
from .weights_downloads import WeightDownloads


@dataclass
class Services:
    settings: Settings
    db: Database
    projects: ProjectStore
    runs: RunQueue
    events: EventLog
    artifacts: ArtifactIndex
    results: FileResultStore
    registry: Registry
    broadcaster: Broadcaster
    dispatcher: Dispatcher
    service: RunService
    downloads: WeightDownloads = field(default_factory=WeightDownloads)  # weight files being fetched
    speeds: SpeedBook = field(default_factory=SpeedBook)  # the worker's speed measured in ended runs


def get_services(conn: HTTPConnection) -> Services:
    return conn.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]

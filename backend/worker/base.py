"""The worker interface: what the dispatcher, the CLI and the benchmarks hold.

A worker executes prepared runs (``backend.runs.PreparedRun``) somewhere else than the
caller (a child process, actors on a Ray cluster), streams their events back as dicts,
cancels them, answers predictions and says how many more runs it can take now.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterator

from backend.engine import events as ev
from backend.runs import PreparedRun


class WorkerError(Exception):
    """A request the worker could not serve; ``code`` is stable (invalid_image, worker_died,
    cluster_unreachable, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Worker(ABC):
    kind: str = "worker"

    @abstractmethod
    def start(self) -> None:
        """Make the worker ready; raises WorkerError when it cannot be (an unreachable cluster)."""

    @abstractmethod
    def free_slots(self) -> int:
        """How many more runs it would execute at once right now (0 when it is down)."""

    @abstractmethod
    def submit(self, run: PreparedRun) -> None:
        """Hand a run over; its events come from ``events(run.run_id)``."""

    @abstractmethod
    def cancel(self, run_id: str) -> None:
        """Ask a submitted run to stop within a batch (it ends with run.cancelled)."""

    @abstractmethod
    def events(self, run_id: str, max_events: int = 500) -> Iterator[list[ev.Event]]:
        """A submitted run's events, in lists of what has arrived, until its terminal event.

        A worker that dies ends the run with a ``run.failed`` event of code ``worker_died``
        whose message says what died.
        """

    @abstractmethod
    def predict(self, model_file: str, image: bytes, timeout: float = 120.0) -> dict[str, Any]:
        """Class probabilities for one encoded image; raises WorkerError."""

    @abstractmethod
    def health(self) -> dict[str, Any]:
        """At least ``kind`` and ``alive``; whatever else helps a person (pid, nodes, slots)."""

    @abstractmethod
    def close(self, timeout: float = 5.0) -> None:
        """Stop; runs still going end with ``worker_died``."""

    def run(self, run: PreparedRun) -> Iterator[ev.Event]:
        """Submit and yield the run's events one by one."""
        self.submit(run)
        for batch in self.events(run.run_id):
            yield from batch

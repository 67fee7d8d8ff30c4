"""The server's weight downloads: one background thread per file, its progress kept for
GET /api/weights (the editor polls it). Plain HTTP: the server never imports torch."""
from __future__ import annotations

import threading
from pathlib import Path

from components.backbones import weights

from .schemas import WeightsDownload


class WeightDownloads:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, WeightsDownload] = {}
        self._threads: dict[str, threading.Thread] = {}

    def state(self, name: str) -> WeightsDownload:
        with self._lock:
            return self._state.get(name, WeightsDownload()).model_copy()

    def start(self, entry: weights.WeightsEntry, mirror: str | None) -> WeightsDownload:
        """Start downloading ``entry`` unless it is being downloaded already."""
        with self._lock:
            running = self._threads.get(entry.name)
            if running is not None and running.is_alive():
                return self._state[entry.name].model_copy()
            self._state[entry.name] = WeightsDownload(state="running", total_bytes=entry.size, phase="download")
            thread = threading.Thread(target=self._run, args=(entry, mirror), daemon=True,
                                      name=f"weights-{entry.name}")
            self._threads[entry.name] = thread
        thread.start()
        return self.state(entry.name)

    def _set(self, name: str, **changes) -> None:
        with self._lock:
            self._state[name] = self._state[name].model_copy(update=changes)

    def _run(self, entry: weights.WeightsEntry, mirror: str | None) -> None:
        def progress(done: int, total: int) -> None:
            self._set(entry.name, done_bytes=done, total_bytes=total,
                      phase="verify" if done >= total else "download")

        try:
            weights.fetch(entry, mirror=mirror, progress=progress)
        except weights.WeightsError as err:
            self._set(entry.name, state="failed", phase=None,
                      error={"code": err.code, "message": err.message, **err.params})
        except Exception as err:  # noqa: BLE001 - reported to the editor, not lost in a thread
            self._set(entry.name, state="failed", phase=None, error={"code": "fetch_failed", "message": str(err)})
        else:
            self._set(entry.name, state="done", phase=None, done_bytes=entry.size)

    def wait(self, name: str, timeout: float | None = None) -> None:
        """For tests and shutdown: wait for the download of ``name`` to end."""
        thread = self._threads.get(name)
        if thread is not None:
            thread.join(timeout)


def upload_limit(catalog: Path | None, path: str, margin: int = 1 << 20) -> int | None:
    """The body limit for POST /api/weights/{name} (the catalog size plus form framing), else None."""
    parts = path.strip("/").split("/")
    if len(parts) != 3 or parts[:2] != ["api", "weights"]:
        return None
    try:
        entry = weights.get_entry(parts[2], catalog)
    except (weights.WeightsError, OSError, ValueError):
        return None
    return entry.size + margin

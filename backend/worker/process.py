"""A worker behind a child process: the caller's side of both executors.

The child (the embedded worker, or the Ray driver) reads commands from one queue and
writes everything back on another:

  caller -> child   ("run", prepared) | ("cancel", run_id) | ("predict", id, model_file, image) | None
  child -> caller   ("hello", info, capacity) | ("capacity", n) | ("events", [event, ...])
                    | ("info", more info, e.g. the GPU memory once torch is imported)
                    | ("reply", id, result, error) | ("fatal", message)

One reader thread routes the events to each run's own queue, so several runs can be in
flight. A child that dies ends every run still going with ``worker_died`` and fails the
predictions waiting on it; the caller never imports torch or Ray.
"""
from __future__ import annotations

import gc
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
import uuid
from abc import abstractmethod
from typing import Any, Callable, Iterator

from backend.engine import events as ev
from backend.runs import PreparedRun

from .base import Worker, WorkerError

_DIED = object()   # put on a run's queue when the child is gone


def signal_name(exitcode: int | None) -> str:
    if exitcode is None or exitcode >= 0:
        return f"exit code {exitcode}"
    try:
        return f"killed by {signal.Signals(-exitcode).name}"
    except ValueError:
        return f"killed by signal {-exitcode}"


def exit_with_parent(parent_pid: int) -> None:
    """In the child: a child whose server was killed (kill -9) must not linger holding the
    accelerator or the cluster connection."""
    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="abacus-parent-watch").start()


class ProcessWorker(Worker):
    #: seconds ``start`` waits for the child's hello (its imports, a cluster connection)
    start_timeout: float = 120.0

    def __init__(self) -> None:
        self._ctx = mp.get_context("spawn")
        self._proc: mp.Process | None = None
        self._lock = threading.Lock()
        self._runs: dict[str, queue.Queue] = {}
        self._replies: dict[str, queue.Queue] = {}
        self._capacity = 0
        self._info: dict[str, Any] = {}
        self._fatal: str | None = None
        self._gone = True
        self._ready = threading.Event()
        self._commands: Any = None
        self._out: Any = None
        self._reader: threading.Thread | None = None

    # -- what a subclass provides ------------------------------------------------------
    @abstractmethod
    def _child(self) -> tuple[Callable[..., None], tuple[Any, ...]]:
        """(function, extra args): run in the child as fn(commands, out, parent_pid, *args)."""

    def death_message(self, exitcode: int | None) -> str:
        return (f"the worker process died during the run ({signal_name(exitcode)}); the run stopped and a "
                f"new worker will be started: run it again")

    # -- lifecycle ----------------------------------------------------------------------
    def start(self, wait: bool = True) -> None:
        old = self._proc
        if old is not None and not old.is_alive():
            # its runs end with worker_died before a new worker takes over (the reader thread
            # may not have noticed the death yet, and would not once the new process is in place)
            self._mark_gone(old)
        with self._lock:
            if self._proc is None or not self._proc.is_alive() or self._gone:
                self._commands = self._ctx.Queue()
                out = self._out = self._ctx.Queue()
                fn, args = self._child()
                proc = self._ctx.Process(target=fn, args=(self._commands, out, os.getpid(), *args), daemon=True,
                                         name=f"abacus-{self.kind}-worker")
                proc.start()
                self._ready = threading.Event()
                self._proc, self._gone, self._fatal, self._capacity, self._info = proc, False, None, 0, {}
                self._reader = threading.Thread(target=self._read, args=(proc, out, self._ready), daemon=True,
                                                name="abacus-worker-reader")
                self._reader.start()
        if wait:
            self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not self._ready.wait(0.1):
            if self._gone or time.monotonic() > deadline:
                message = self._fatal or (f"the {self.kind} worker did not start within {self.start_timeout:.0f}s"
                                          if not self._gone else f"the {self.kind} worker exited while starting")
                if not self._gone:
                    self.close(timeout=1.0)
                raise WorkerError("worker_unavailable" if self._fatal is None else "cluster_unreachable", message)

    def alive(self) -> bool:
        """Started, said hello, and not gone."""
        return self._proc is not None and self._proc.is_alive() and not self._gone and self._ready.is_set()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.alive() else None

    def close(self, timeout: float = 5.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.is_alive():
            try:
                self._commands.put(None)
            except (OSError, ValueError, AttributeError):   # AttributeError: released already
                pass
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout)
        self._mark_gone(proc)
        self._release_queues()

    def _release_queues(self) -> None:
        """Close the queues to a child that is gone and let go of them, so that their
        semaphores are unlinked now. Left to the interpreter's exit they are not when the
        server ends by a signal (uvicorn re-raises SIGTERM after shutting down gracefully),
        and the resource tracker reports them as leaked."""
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(2.0)   # it ends once it has seen the child gone
        with self._lock:
            queues, self._commands, self._out, self._reader = (self._commands, self._out), None, None, None
        for q in queues:
            if q is None:
                continue
            q.close()
            feeder = getattr(q, "_thread", None)   # the thread flushing what was put: let it finish
            if feeder is not None:
                feeder.join(1.0)
        del queues, q
        gc.collect()   # what a cycle still holds

    # -- the reader -----------------------------------------------------------------------
    def _read(self, proc: mp.Process, out: mp.Queue, ready: threading.Event) -> None:
        while True:
            try:
                msg = out.get(timeout=0.2)
            except queue.Empty:
                if not proc.is_alive():
                    self._mark_gone(proc)
                    return
                continue
            except (EOFError, OSError):
                self._mark_gone(proc)
                return
            kind = msg[0]
            if kind == "events":
                self._route(msg[1])
            elif kind == "capacity":
                self._capacity = int(msg[1])
            elif kind == "hello":
                self._info, self._capacity = {**self._info, **dict(msg[1])}, int(msg[2])
                ready.set()
            elif kind == "info":
                self._info = {**self._info, **dict(msg[1])}
            elif kind == "reply":
                box = self._replies.get(msg[1])
                if box is not None:
                    box.put((msg[2], msg[3]))
            elif kind == "fatal":
                self._fatal = str(msg[1])

    def _route(self, events: list[dict[str, Any]]) -> None:
        by_run: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            by_run.setdefault(event.get("run_id", ""), []).append(event)
        for run_id, batch in by_run.items():
            box = self._runs.get(run_id)
            if box is not None:
                box.put(batch)

    def _mark_gone(self, proc: mp.Process) -> None:
        with self._lock:
            if proc is not self._proc or self._gone:
                return
            self._gone = True
            runs, replies = list(self._runs.values()), list(self._replies.values())
        for box in runs:
            box.put(_DIED)
        for box in replies:
            box.put((None, {"code": "worker_died", "message": self._fatal or
                            f"the {self.kind} worker exited during the request"}))

    # -- runs -------------------------------------------------------------------------------
    def free_slots(self) -> int:
        if not self.alive():
            return 0
        return max(0, self._capacity - len(self._runs))

    def submit(self, run: PreparedRun) -> None:
        if self._proc is None:
            self.start()
        box: queue.Queue = queue.Queue()
        with self._lock:
            self._runs[run.run_id] = box
            gone = self._gone
        if gone:
            box.put(_DIED)
            return
        self._commands.put(("run", run.model_dump(mode="json")))

    def cancel(self, run_id: str) -> None:
        commands = self._commands
        if self.alive() and commands is not None:
            commands.put(("cancel", run_id))

    def events(self, run_id: str, max_events: int = 500) -> Iterator[list[ev.Event]]:
        box = self._runs.get(run_id)
        if box is None:
            raise KeyError(f"run {run_id} was not submitted to this worker")
        try:
            while True:
                got = box.get()
                batch: list[ev.Event] = []
                while True:
                    if got is _DIED:
                        exitcode = self._proc.exitcode if self._proc is not None else None
                        batch.append(ev.RunFailed(run_id=run_id, code="worker_died",
                                                  message=self._fatal or self.death_message(exitcode)))
                        yield batch
                        return
                    for event in ev.EventsAdapter.validate_python(got):   # the child sends them as JSON data
                        batch.append(event)
                        if event.type in ev.TERMINAL:
                            yield batch
                            return
                    if len(batch) >= max_events:
                        break
                    try:
                        got = box.get_nowait()
                    except queue.Empty:
                        break
                if batch:
                    yield batch
        finally:
            with self._lock:
                self._runs.pop(run_id, None)

    # -- predictions ------------------------------------------------------------------------
    def predict(self, model_file: str, image: bytes, timeout: float = 120.0) -> dict[str, Any]:
        if not self.alive():
            self.start()
        request_id = uuid.uuid4().hex
        box: queue.Queue = queue.Queue()
        self._replies[request_id] = box
        try:
            if self._gone:
                raise WorkerError("worker_died", f"the {self.kind} worker is not running")
            self._commands.put(("predict", request_id, str(model_file), image))
            try:
                result, error = box.get(timeout=timeout)
            except queue.Empty:
                raise WorkerError("predict_timeout", f"the prediction took longer than {timeout:.0f}s") from None
        finally:
            self._replies.pop(request_id, None)
        if error is not None:
            raise WorkerError(error["code"], error["message"])
        return result

    def health(self) -> dict[str, Any]:
        alive = self.alive()
        return {**(self._info if alive else {}), "kind": self.kind, "alive": alive, "pid": self.pid,
                "slots": self._capacity if alive else 0, "running": len(self._runs),
                **({"error": self._fatal} if self._fatal else {})}

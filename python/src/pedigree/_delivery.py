"""Hands each step of a run to the `pedigree` binary (`pedigree capture start|finish`) on a thread of its own,
in order, so training never waits for capture: the binary records through the server (`PEDIGREE_URL`,
`PEDIGREE_TOKEN`) or the local store, and spools what neither takes, exactly as `pedigree run` does. A problem
is reported once, as a warning; it never raises into training code."""
from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from typing import Any, Dict, Optional, Set

_warned: Set[str] = set()
_warn_lock = threading.Lock()


def warn_once(message: str) -> None:
    with _warn_lock:
        if message in _warned:
            return
        _warned.add(message)
    print(message, file=sys.stderr, flush=True)


def binary() -> Optional[str]:
    """`$PEDIGREE_BIN`, else `pedigree` on the PATH."""
    return os.environ.get("PEDIGREE_BIN") or shutil.which("pedigree")


class _Worker:
    """One thread, one queue: a run's finish is delivered after its start, and a run that loads another's
    model is started after that one has been recorded, so it finds the model by digest."""

    def __init__(self) -> None:
        self._queue: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._exit_registered = False

    def submit(self, step: str, request: Dict[str, Any]) -> None:
        """Queues a step. The request is copied now (the run goes on changing), with the seeds and the models
        the process has loaded so far; framework versions are added on the worker thread."""
        from . import _process

        request = json.loads(json.dumps(request, default=str))
        request["parents"] = request.get("parents", []) + [m for m in _process.loaded_models() if m not in request.get("parents", [])]
        inputs = request.setdefault("inputs", [])
        inputs += [use for use in (f"base-model={d}" for d in _process.loaded_directories()) if use not in inputs]
        request["seeds"] = _process.seeds()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pedigree-capture", daemon=True)
                self._thread.start()
                if not self._exit_registered:
                    atexit.register(self.flush)
                    self._exit_registered = True
        self._queue.put({"step": step, "request": request})

    def after_fork(self) -> None:
        """A forked child has no worker thread, only its parent's queue: it starts afresh."""
        self._queue = queue.Queue()
        self._thread = None
        self._lock = threading.Lock()

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Waits until everything submitted has been handed over (at most `timeout` seconds, default
        `$PEDIGREE_FLUSH_TIMEOUT` or 60); True when nothing is left."""
        if self._thread is None:
            return True
        limit = timeout if timeout is not None else float(os.environ.get("PEDIGREE_FLUSH_TIMEOUT", "60"))
        done = threading.Event()
        self._queue.put({"step": "flush", "done": done})
        if not done.wait(limit):
            warn_once(f"pedigree: gave up waiting {limit:g}s for lineage to be recorded; what was not handed over is lost")
            return False
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if item["step"] == "flush":
                item["done"].set()
                continue
            try:
                self._deliver(item["step"], item["request"])
            except Exception as error:  # noqa: BLE001 - capture never breaks training
                warn_once(f"pedigree: could not record the run ({type(error).__name__}: {error})")

    def _deliver(self, step: str, request: Dict[str, Any]) -> None:
        from . import _process

        try:
            environment = _process.framework_environment()
            seeds = request.pop("seeds", {})
            if seeds:
                environment["seeds"] = seeds
            request["environment"] = environment
            command = binary()
            if command is None:
                warn_once("pedigree: the pedigree binary is not on the PATH (or $PEDIGREE_BIN); lineage is not recorded")
                return
            timeout = float(os.environ.get("PEDIGREE_CAPTURE_TIMEOUT", "300"))
            completed = subprocess.run(
                [command, "capture", step], input=json.dumps(request).encode(), capture_output=True, timeout=timeout, check=False
            )
            for line in completed.stderr.decode(errors="replace").splitlines():
                if line.strip():
                    warn_once(f"pedigree: {line}")
        finally:
            metrics = request.get("metricsFile")
            if metrics:
                try:
                    os.remove(metrics)
                except OSError:
                    pass


worker = _Worker()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=worker.after_fork)

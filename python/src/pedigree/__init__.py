"""Lineage from inside Python training code.

    import pedigree

    @pedigree.track(model="fraud", inputs={"train": "data/train.csv"}, outputs=["out/model.bin"])
    def train(cfg: Config) -> float:
        ...

    with pedigree.run(model="fraud") as run:
        run.log_params({"lr": 0.01})
        run.log_metric("loss", 0.3, step=10)
        run.use("data/val.csv", role="validation")
        run.produce("out/model.bin", kind="model")

A decorated call or a `with` block is one run: START when it begins, COMPLETE when it returns, FAIL (with the
exception's type and message) when it raises — the exception is re-raised unchanged. The function's bound
arguments are its hyperparameters. Git, environment, packages, data digests and secret redaction are the
`pedigree` binary's (`pedigree capture`), so they are exactly what `pedigree run` records; this library adds the
call's arguments, the seeds given to random, numpy, torch, tensorflow and jax, the framework and CUDA versions
the process loaded, and `hf://NAME@COMMIT` of models loaded with `from_pretrained`. Inside `pedigree run` it adds
to that run (`PEDIGREE_RUN_ID`) instead of starting another.
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import sys
import tempfile
import threading
import uuid
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Type, TypeVar, Union

from . import _delivery, _process
from ._values import to_json

__version__ = "0.1.0"
__all__ = ["Run", "run", "track", "flush", "__version__"]

F = TypeVar("F", bound=Callable[..., Any])
Inputs = Union[Mapping[str, str], Iterable[str], None]

_process.install()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _uses(inputs: Inputs) -> List[str]:
    """`{"train": "data/train.csv"}` or `["data/train.csv"]` as the binary's `ROLE=PATH` list."""
    if inputs is None:
        return []
    if isinstance(inputs, Mapping):
        return [f"{role}={_path(target)}" for role, target in inputs.items()]
    return [f"input={_path(target)}" for target in inputs]


def _path(value: Any) -> str:
    return os.fspath(value) if isinstance(value, (str, os.PathLike)) else str(value)


def _merge(into: Dict[str, Any], more: Mapping[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


class Run:
    """One run: what its code declares (`log_params`, `log_metric`, `use`, `produce`, `parent`) on top of what
    the binary captures. Every method returns at once; recording happens on a thread of its own."""

    def __init__(
        self,
        model: Optional[str] = None,
        *,
        job: Optional[str] = None,
        namespace: Optional[str] = None,
        inputs: Inputs = None,
        outputs: Optional[Iterable[str]] = None,
        parents: Optional[Iterable[str]] = None,
        params: Optional[Mapping[str, Any]] = None,
    ) -> None:
        joined = os.environ.get("PEDIGREE_RUN_ID")
        #: Whether this adds to the run `pedigree run` is capturing rather than being a run of its own.
        self.joined = bool(joined)
        self.id: str = joined or str(uuid.uuid4())
        self.model = model
        self.job = (os.environ.get("PEDIGREE_JOB") if joined else None) or job or model or _script_name()
        self.namespace = namespace or os.environ.get("PEDIGREE_NAMESPACE")
        self._inputs = _uses(inputs)
        self._late_inputs: List[str] = []
        self._outputs = [_path(o) for o in outputs or []]
        self._parents = [str(p) for p in parents or []]
        self._params: Dict[str, Any] = {}
        self.log_params(params or {})
        self._metrics: List[tuple] = []
        self._metrics_lock = threading.Lock()
        self._started_at: Optional[str] = None
        self._directory = os.getcwd()

    @property
    def ref(self) -> str:
        """The run's reference, `run:<id>`."""
        return f"run:{self.id}"

    # What the code declares.

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Adds hyperparameters (nested configs flattened to JSON, as the decorator does with arguments)."""
        try:
            _merge(self._params, to_json(dict(params)))
        except Exception as error:  # noqa: BLE001 - lineage never breaks training
            _delivery.warn_once(f"pedigree: could not record parameters ({type(error).__name__}: {error})")

    def log_metric(self, key: str, value: float, step: Optional[int] = None) -> None:
        """Records a metric value, optionally at a step; costs a list append on the training thread."""
        with self._metrics_lock:
            self._metrics.append((key, value, step))

    def use(self, path_or_ref: Union[str, os.PathLike], role: str = "input") -> None:
        """Declares an input: a path (digested by the binary; a registered model's file becomes the run's base
        model) or a reference such as `dataset:warehouse/tx@v3`."""
        self._late_inputs.append(f"{role}={_path(path_or_ref)}")

    def produce(self, path: Union[str, os.PathLike], kind: str = "dataset") -> None:
        """Declares an output; `kind="model"` registers it as a version of the run's model (its job's name when
        none was given)."""
        self._outputs.append(_path(path))
        if kind == "model" and self.model is None:
            self.model = self.job

    def parent(self, ref: str) -> None:
        """Declares a base model: `model:NS/NAME@VERSION` or `hf://org/name@revision`."""
        self._parents.append(str(ref))

    # The run's life.

    def _request(self) -> Dict[str, Any]:
        request: Dict[str, Any] = {
            "id": self.id,
            "job": self.job,
            "directory": self._directory,
            "command": [sys.executable] + sys.argv,
            "outputs": list(self._outputs),
            "parents": list(self._parents),
            "hyperparameters": self._params,
        }
        if self.model:
            request["model"] = self.model
        if self.namespace:
            request["namespace"] = self.namespace
        return request

    def start(self) -> "Run":
        """Records the START (or, inside `pedigree run`, what this process adds to that run)."""
        self._started_at = _now()
        try:
            request = self._request()
            request.update({"inputs": list(self._inputs), "startedAt": self._started_at})
            if self.joined:
                request["join"] = True
            _delivery.worker.submit("start", request)
        except Exception as error:  # noqa: BLE001 - lineage never breaks training
            _delivery.warn_once(f"pedigree: could not record the run's start ({type(error).__name__}: {error})")
        return self

    def end(self, error: Optional[BaseException] = None) -> None:
        """Records COMPLETE, or FAIL with the exception's type and message. Never raises."""
        try:
            self._end(error)
        except Exception as failure:  # noqa: BLE001 - lineage never breaks training, nor replaces its exception
            _delivery.warn_once(f"pedigree: could not record the run's end ({type(failure).__name__}: {failure})")

    def _end(self, error: Optional[BaseException]) -> None:
        ended_at = _now()
        with self._metrics_lock:
            metrics, self._metrics = self._metrics, []
        lines = "".join(
            json.dumps({"key": str(k), "value": to_json(v), **({} if s is None else {"step": to_json(s)})}) + "\n" for k, v, s in metrics
        )
        if self.joined:
            # The wrapper reads its metrics file when the command ends; params and inputs go as an addition.
            target = os.environ.get("PEDIGREE_METRICS_FILE")
            if target and lines:
                with open(target, "a", encoding="utf-8") as file:
                    file.write(lines)
            request = self._request()
            request.update({"inputs": self._late_inputs, "join": True})
            _delivery.worker.submit("start", request)
            return
        request = self._request()
        request.update({"inputs": self._late_inputs, "startedAt": self._started_at or ended_at, "endedAt": ended_at})
        request["status"] = "FAIL" if error is not None else "COMPLETE"
        if error is not None:
            request["error"] = {"type": type(error).__qualname__, "message": str(error)}
        if lines:
            handle, path = tempfile.mkstemp(prefix="pedigree-metrics-", suffix=".jsonl")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(lines)
            request["metricsFile"] = path
        _delivery.worker.submit("finish", request)

    def __enter__(self) -> "Run":
        return self.start()

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException], trace: Optional[TracebackType]) -> bool:
        self.end(None if _succeeded(error) else error)
        return False  # the exception, if any, goes on unchanged


def _succeeded(error: Optional[BaseException]) -> bool:
    """No exception, or `sys.exit(0)`: a script that exits cleanly from inside the run completed it."""
    return error is None or (isinstance(error, SystemExit) and error.code in (None, 0))


def _script_name() -> str:
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    name = os.path.splitext(script)[0]
    return name if name and name != "-c" else "python"


#: A run for a `with` block: `with pedigree.run(model="fraud") as run: ...` (the class itself, same arguments).
run = Run


def track(
    model: Optional[str] = None,
    *,
    job: Optional[str] = None,
    namespace: Optional[str] = None,
    inputs: Inputs = None,
    outputs: Optional[Iterable[str]] = None,
    parents: Optional[Iterable[str]] = None,
) -> Callable[[F], F]:
    """Makes each call of a training function a run whose hyperparameters are the arguments it was called with
    (after defaults; `self` and `cls` left out). The function may take a `pedigree_run` keyword to reach the run."""

    def decorate(function: F) -> F:
        signature = inspect.signature(function)
        wants_run = "pedigree_run" in signature.parameters

        def begin(args: Any, kwargs: Dict[str, Any]) -> Run:
            current = Run(
                model, job=job or (None if model else function.__name__), namespace=namespace, inputs=inputs, outputs=outputs, parents=parents
            )
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                current.log_params({k: v for k, v in bound.arguments.items() if k not in ("self", "cls", "pedigree_run")})
            except TypeError:
                pass  # the call itself will raise the same TypeError, unchanged
            if wants_run:
                kwargs["pedigree_run"] = current
            return current.start()

        if asyncio.iscoroutinefunction(function):

            @functools.wraps(function)
            async def coroutine(*args: Any, **kwargs: Any) -> Any:
                current = begin(args, kwargs)
                try:
                    result = await function(*args, **kwargs)
                except BaseException as error:
                    current.end(None if _succeeded(error) else error)
                    raise
                current.end()
                return result

            return coroutine  # type: ignore[return-value]

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            current = begin(args, kwargs)
            try:
                result = function(*args, **kwargs)
            except BaseException as error:
                current.end(None if _succeeded(error) else error)
                raise
            current.end()
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


def flush(timeout: Optional[float] = None) -> bool:
    """Waits until every run step so far has been handed to the binary (also done at exit); True when done."""
    return _delivery.worker.flush(timeout)

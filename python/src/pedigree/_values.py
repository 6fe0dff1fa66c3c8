"""Turning what a training function was called with into JSON: configs of every common kind become nested
objects, anything else a short description of its type (a tensor or a data frame is not a hyperparameter)."""
from __future__ import annotations

import argparse
import dataclasses
import enum
import math
import os
from typing import Any

_MAX_DEPTH = 16
_MAX_ITEMS = 1000


def to_json(value: Any, depth: int = 0) -> Any:
    """A JSON value for `value`: dataclasses, dicts, argparse namespaces, pydantic models and OmegaConf/Hydra
    configs as nested objects; lists, tuples and sets as arrays; numbers, strings, booleans and None as is."""
    if depth > _MAX_DEPTH:
        return f"<{type(value).__name__}>"
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, enum.Enum):
        return to_json(value.value, depth + 1)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    if isinstance(value, argparse.Namespace):
        return {k: to_json(v, depth + 1) for k, v in vars(value).items()}
    if isinstance(value, dict):
        return {str(k): to_json(v, depth + 1) for k, v in list(value.items())[:_MAX_ITEMS]}
    if isinstance(value, (list, tuple)):
        return [to_json(v, depth + 1) for v in value[:_MAX_ITEMS]]
    if isinstance(value, (set, frozenset)):
        return sorted((to_json(v, depth + 1) for v in list(value)[:_MAX_ITEMS]), key=repr)
    try:
        converted = _framework_config(value)
    except Exception:  # noqa: BLE001 - a config that cannot be read is described, not raised into training
        converted = None
    if converted is not None:
        return to_json(converted, depth + 1)
    item = getattr(value, "item", None)  # numpy and torch scalars
    if callable(item) and getattr(value, "shape", None) in ((), None) and type(value).__module__.split(".")[0] in ("numpy", "torch"):
        try:
            return to_json(item(), depth + 1)
        except (TypeError, ValueError, RuntimeError):
            pass
    return f"<{type(value).__name__}>"


def _framework_config(value: Any) -> Any:
    """A pydantic model's or an OmegaConf config's plain contents; None for anything else."""
    module = type(value).__module__.split(".")[0]
    if module == "omegaconf":
        from omegaconf import OmegaConf  # imported only when the value is one of its configs

        try:
            return OmegaConf.to_container(value, resolve=True)
        except Exception:  # noqa: BLE001 - a mandatory `???` or an interpolation that cannot be resolved yet
            return OmegaConf.to_container(value, resolve=False)
    if module == "pydantic" or hasattr(type(value), "model_fields") or hasattr(type(value), "__fields__"):
        dump = getattr(value, "model_dump", None) or getattr(value, "dict", None)
        if callable(dump):
            try:
                return dump()
            except TypeError:
                return None
    return None

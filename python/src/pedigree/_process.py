"""What only the training process knows: the seeds its frameworks were set to, the framework and CUDA versions
it loaded, and the pretrained models it loaded by name. Each framework is looked at only once it is imported:
the library imports none of them itself."""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import threading
from typing import Any, Callable, Dict, List, Optional

_lock = threading.Lock()
_seeds: Dict[str, Any] = {}
_loaded_models: List[str] = []
_loaded_directories: List[str] = []
_patched: set = set()


def seeds() -> Dict[str, Any]:
    """The last seed each framework was given, by framework (`random`, `numpy`, `torch`, `tensorflow`, `jax`)."""
    with _lock:
        return dict(_seeds)


def loaded_models() -> List[str]:
    """`hf://NAME@COMMIT` of each model loaded with `from_pretrained` from the Hugging Face hub (the commit it
    resolved, not the branch it was asked for)."""
    with _lock:
        return list(_loaded_models)


def loaded_directories() -> List[str]:
    """Local directories models were loaded from with `from_pretrained` (their content is digested as the
    run's base model: a saved model has no hub commit)."""
    with _lock:
        return list(_loaded_directories)


def _record_seed(framework: str, value: Any) -> None:
    try:
        seed = int(value)
    except (TypeError, ValueError, OverflowError):
        seed = repr(value)
    with _lock:
        _seeds[framework] = seed


def _wrap(owner: Any, name: str, framework: str, seed_of: Callable[..., Any]) -> None:
    original = getattr(owner, name, None)
    if original is None or getattr(original, "__pedigree_wrapped__", False):
        return

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value = seed_of(*args, **kwargs)
        if value is not None:
            _record_seed(framework, value)
        return original(*args, **kwargs)

    wrapper.__pedigree_wrapped__ = True  # type: ignore[attr-defined]
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    wrapper.__doc__ = original.__doc__
    wrapper.__name__ = getattr(original, "__name__", name)
    setattr(owner, name, wrapper)


def _first(*args: Any, **kwargs: Any) -> Any:
    if args:
        return args[0]
    return kwargs.get("seed", kwargs.get("a"))


def _patch_random(module: Any) -> None:
    _wrap(module, "seed", "random", _first)


def _patch_numpy_random(module: Any) -> None:
    _wrap(module, "seed", "numpy", _first)
    _wrap(module, "default_rng", "numpy", _first)


def _patch_torch(module: Any) -> None:
    _wrap(module, "manual_seed", "torch", _first)


def _patch_tensorflow(module: Any) -> None:
    random = getattr(module, "random", None)
    if random is not None:
        _wrap(random, "set_seed", "tensorflow", _first)


def _patch_jax_random(module: Any) -> None:
    _wrap(module, "PRNGKey", "jax", _first)
    _wrap(module, "key", "jax", _first)


def _patch_transformers(module: Any) -> None:
    """Every `from_pretrained` of a model class ends in `PreTrainedModel.from_pretrained`; what it loaded from the
    hub carries the resolved commit (`config._commit_hash`), not the branch it was asked for."""
    try:
        base = module.PreTrainedModel
    except (AttributeError, ImportError):  # transformers without a deep-learning framework has no models
        return
    original = base.__dict__.get("from_pretrained")
    if original is None or getattr(original, "__pedigree_wrapped__", False):
        return
    function = original.__func__

    def from_pretrained(cls: Any, *args: Any, **kwargs: Any) -> Any:
        model = function(cls, *args, **kwargs)
        try:
            config = getattr(model, "config", None)
            name = getattr(config, "_name_or_path", None) or (str(args[0]) if args else None)
            commit = getattr(config, "_commit_hash", None)
            with _lock:
                if name and os.path.isdir(name):
                    if os.path.abspath(name) not in _loaded_directories:
                        _loaded_directories.append(os.path.abspath(name))
                elif name and commit:
                    ref = f"hf://{name}@{commit}"
                    if ref not in _loaded_models:
                        _loaded_models.append(ref)
        except Exception:  # noqa: BLE001 - lineage never breaks loading a model
            pass
        return model

    from_pretrained.__pedigree_wrapped__ = True  # type: ignore[attr-defined]
    from_pretrained.__doc__ = function.__doc__
    base.from_pretrained = classmethod(from_pretrained)


_PATCHERS: Dict[str, Callable[[Any], None]] = {
    "random": _patch_random,
    "numpy.random": _patch_numpy_random,
    "torch": _patch_torch,
    "tensorflow": _patch_tensorflow,
    "jax.random": _patch_jax_random,
    # Its models' module, not the package: touching transformers.PreTrainedModel imports torch, which a
    # tokenizer-only script never pays for.
    "transformers.modeling_utils": _patch_transformers,
}


def _patch(name: str, module: Any) -> None:
    with _lock:
        if name in _patched:
            return
        _patched.add(name)
    try:
        _PATCHERS[name](module)
    except Exception as error:  # noqa: BLE001 - a framework we cannot patch is one we do not record
        from . import _delivery

        _delivery.warn_once(f"pedigree: could not watch {name} ({type(error).__name__}: {error})")


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches a framework right after it is first imported, so one imported after `pedigree` is watched too."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname not in _PATCHERS or fullname in _patched:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            loader = spec.loader
            exec_module = getattr(loader, "exec_module", None)
            if exec_module is None:
                return spec

            class Loader(importlib.abc.Loader):
                """The module's own loader, patching the module once it has run; everything else (get_source,
                get_data, is_package, resource readers) is the original's."""

                def create_module(self, spec: Any) -> Any:
                    return loader.create_module(spec)  # type: ignore[union-attr]

                def exec_module(self, module: Any) -> None:
                    exec_module(module)
                    _patch(fullname, module)

                def __getattr__(self, name: str) -> Any:
                    return getattr(loader, name)

            spec.loader = Loader()
            return spec
        return None


def install() -> None:
    """Watches the frameworks already imported, and those imported later."""
    for name in _PATCHERS:
        module = sys.modules.get(name)
        if module is not None:
            _patch(name, module)
    if not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def framework_environment() -> Dict[str, Any]:
    """Framework versions as the process loaded them, CUDA's and the GPU's when torch sees one."""
    packages: Dict[str, str] = {}
    environment: Dict[str, Any] = {}
    for name in ("numpy", "torch", "tensorflow", "jax", "transformers", "sklearn"):
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None) if module is not None else None
        if isinstance(version, str):
            packages["scikit-learn" if name == "sklearn" else name] = version
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            cuda = getattr(getattr(torch, "version", None), "cuda", None)
            if cuda:
                environment["cuda"] = str(cuda)
            # Only when training already set CUDA up: asking first would create a context on a GPU the
            # process may not use (hundreds of MB on every rank) and set CUDA up before the code forks.
            if torch.cuda.is_initialized():
                device = torch.cuda.current_device()
                environment["gpu"] = {"model": torch.cuda.get_device_name(device), "count": int(torch.cuda.device_count())}
        except Exception:  # noqa: BLE001 - a broken CUDA setup is not the run's failure
            pass
    if packages:
        environment["packages"] = packages
    recorded = seeds()
    if recorded:
        environment["seeds"] = recorded
    return environment

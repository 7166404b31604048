"""Model flavors: how each kind of model is written to and read from a model directory.

A flavor module has ``NAME``, ``LOADER`` (the ``loader_module`` MLflow writes for it, so
that MLflow can load what stead saves), ``save(model, model_dir) -> Saved`` and
``load(model_dir, mlmodel, config) -> Predictor`` (``config``: the MLmodel's ``model_config``
with the caller's settings on top, e.g. ``device`` for PyTorch). Flavor modules import their heavy library
inside those functions, so ``import stead.models`` stays light.

``loader_module`` in an MLmodel file is hostile input: it only ever selects one of the
flavors below and is never imported.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from collections.abc import Mapping
from typing import Any, Protocol

from stead.errors import InvalidParameter, MissingExtra

__all__ = ["FLAVORS", "LOADERS", "Saved", "Predictor", "flavor_module", "load_flavor", "for_loader", "detect", "require"]

FLAVORS = {
    "sklearn": "stead.models.flavors.sklearn",
    "xgboost": "stead.models.flavors.xgboost",
    "pytorch": "stead.models.flavors.pytorch",
    "onnx": "stead.models.flavors.onnx",
    "python_model": "stead.models.flavors.python_model",
}

# MLflow's loader_module values, mapped to the stead flavor that reads the same files.
LOADERS = {
    "mlflow.sklearn": "sklearn",
    "mlflow.xgboost": "xgboost",
    "mlflow.pytorch": "pytorch",
    "mlflow.onnx": "onnx",
    "mlflow.pyfunc.model": "python_model",
}


@dataclass
class Saved:
    """What a flavor wrote: its own MLmodel block, the python_function block, pip lines."""

    flavor: dict[str, Any] | None
    pyfunc: dict[str, Any]
    requirements: list[str] = field(default_factory=list)


class Predictor(Protocol):
    raw: Any

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


def flavor_module(name: str) -> ModuleType:
    if name not in FLAVORS:
        raise InvalidParameter(f"Unknown model flavor {name!r}; use one of {', '.join(FLAVORS)}")
    return importlib.import_module(FLAVORS[name])


def load_flavor(name: str, model_dir: Any, mlmodel: Any, overrides: Mapping[str, Any] | None = None) -> Predictor:
    """Load ``model_dir`` with flavor ``name``, its ``model_config`` updated by ``overrides``."""
    config = mlmodel.pyfunc.get("model_config") or {}
    if not isinstance(config, dict):
        raise InvalidParameter("MLmodel python_function 'model_config' must be a mapping")
    # stead's own keys (the pickle opt-in among them) come from the caller, never from the file
    config = {k: v for k, v in config.items() if not str(k).startswith("stead.")}
    if overrides is not None and not isinstance(overrides, Mapping):
        raise InvalidParameter(f"model_config must be a mapping, not {type(overrides).__name__}")
    predictor: Predictor = flavor_module(name).load(model_dir, mlmodel, {**config, **(overrides or {})})
    return predictor


def for_loader(loader_module: object) -> str:
    """The stead flavor for a ``loader_module`` read from an MLmodel file."""
    if not isinstance(loader_module, str) or loader_module not in LOADERS:
        raise InvalidParameter(
            f"MLmodel names loader_module {loader_module!r}, which stead does not load; "
            f"stead loads only {', '.join(LOADERS)}"
        )
    return LOADERS[loader_module]


def detect(model: Any) -> str:
    """The flavor for an in-memory model, judged by its class hierarchy (no imports)."""
    mro = type(model).__mro__
    qualnames = {f"{c.__module__}.{c.__qualname__}" for c in mro}
    roots = {c.__module__.split(".")[0] for c in mro}
    if qualnames & {"stead.models.flavors.python_model.PythonModel", "mlflow.pyfunc.model.PythonModel"}:
        return "python_model"
    if "torch" in roots:
        return "pytorch"
    if "xgboost" in roots:
        return "xgboost"
    if "onnx" in roots:
        return "onnx"
    if "sklearn" in roots or (hasattr(model, "predict") and hasattr(model, "get_params")):
        return "sklearn"
    raise InvalidParameter(
        f"Cannot tell which flavor saves a {type(model).__qualname__}; pass flavor= one of "
        f"{', '.join(FLAVORS)}, or wrap it in a stead.models.PythonModel"
    )


def require(module: str, feature: str, extra: str) -> ModuleType:
    """Import an optional library, or fail with the ``pip install`` line that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(feature, extra) from exc

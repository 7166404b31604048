"""Generic Python models: a ``PythonModel`` subclass with ``predict(context, model_input)``,
MLflow's contract, pickled with cloudpickle as MLflow's ``mlflow.pyfunc.model`` does."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stead.errors import InvalidParameter
from stead.models.env import pinned
from stead.models.flavors import Saved, require
from stead.models.mlmodel import PYFUNC, MLmodel
from stead.models.paths import inside
from stead.models.trust import require_trust

NAME = "python_model"
LOADER = "mlflow.pyfunc.model"
_FILE = "python_model.pkl"

__all__ = ["PythonModel", "PythonModelContext"]


@dataclass
class PythonModelContext:
    """What ``load_context`` and ``predict`` receive: local paths of the model's artifacts
    and its ``model_config``."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Subclass and implement ``predict(self, context, model_input, params=None)``.

    ``load_context(context)`` runs once after loading; override it to open files named
    in ``context.artifacts``.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once when the model is loaded."""

    def predict(self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError("A PythonModel subclass must implement predict(context, model_input)")


def _cloudpickle(feature: str) -> Any:
    return require("cloudpickle", feature, "sklearn")


def save(model: Any, model_dir: Path) -> Saved:
    cloudpickle = _cloudpickle("Saving a Python model")
    if not callable(getattr(model, "predict", None)):
        raise InvalidParameter(f"{type(model).__qualname__} has no predict(context, model_input) method")
    with open(model_dir / _FILE, "wb") as f:
        cloudpickle.dump(model, f)
    pyfunc = {
        "loader_module": LOADER,
        "python_model": _FILE,
        "cloudpickle_version": cloudpickle.__version__,
        "streamable": False,
    }
    return Saved(None, pyfunc, [p for p in [pinned("cloudpickle")] if p])


class _Predictor:
    def __init__(self, raw: Any, context: PythonModelContext) -> None:
        self.raw = raw
        self.context = context
        params = inspect.signature(raw.predict).parameters
        self._takes_context = "context" in params or len(
            [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        ) >= 2
        self._takes_params = "params" in params

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        kwargs = {"params": params} if self._takes_params else {}
        if self._takes_context:
            return self.raw.predict(self.context, data, **kwargs)
        return self.raw.predict(data, **kwargs)


def load(model_dir: Path, mlmodel: MLmodel, config: Mapping[str, Any] | None = None) -> _Predictor:
    conf = mlmodel.flavors.get(PYFUNC, {})
    if "model_code_path" in conf:
        raise InvalidParameter("Models-from-code (model_code_path) are not loaded by stead; save a PythonModel instead")
    path = inside(model_dir, conf.get("python_model"), "python_model path")
    artifacts: dict[str, str] = {}
    raw_artifacts = conf.get("artifacts") or {}
    if not isinstance(raw_artifacts, dict):
        raise InvalidParameter("MLmodel python_function 'artifacts' must be a mapping")
    for key, info in raw_artifacts.items():
        rel = info.get("path") if isinstance(info, dict) else None
        artifacts[str(key)] = str(inside(model_dir, rel, f"artifact {key!r} path"))
    require_trust(config, path, "a Python model pickled with cloudpickle")
    with open(path, "rb") as f:
        model = _cloudpickle("Loading a Python model").load(f)
    user_config = {k: v for k, v in (config or {}).items() if not k.startswith("stead.")}  # stead's own keys stay out
    context = PythonModelContext(artifacts, user_config)
    if callable(getattr(model, "load_context", None)):
        model.load_context(context)
    return _Predictor(model, context)

"""``load_model``: a model directory (or URI) as a ``PyFuncModel`` with ``predict``.

Loading a pickled model runs code from the model files, so it needs the caller's opt-in
(``trust=True`` or the ``trust_pickle`` setting; ``stead.models.trust``). The MLmodel file
picks a flavor from a fixed list; nothing named in it is imported.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stead.errors import UntrustedModel
from stead.models.flavors import Predictor, for_loader, load_flavor
from stead.models.mlmodel import MLmodel
from stead.models.paths import inside
from stead.models.signature import ModelSignature, enforce_schema
from stead.models.trust import TRUST_KEY, trusted
from stead.models.uris import resolve

if TYPE_CHECKING:
    from stead.tracking.client import TrackingClient

__all__ = ["PyFuncModel", "load_model"]


class PyFuncModel:
    """A loaded model: ``predict`` checks input against the signature, then calls the model."""

    def __init__(self, mlmodel: MLmodel, predictor: Predictor, flavor: str, path: Path) -> None:
        self._mlmodel = mlmodel
        self._predictor = predictor
        self._flavor = flavor
        self._path = path

    @property
    def metadata(self) -> MLmodel:
        return self._mlmodel

    @property
    def signature(self) -> ModelSignature | None:
        return self._mlmodel.signature

    @property
    def flavor(self) -> str:
        return self._flavor

    @property
    def path(self) -> Path:
        return self._path

    @property
    def raw(self) -> Any:
        """The underlying model object (estimator, Booster, module, session, PythonModel)."""
        return self._predictor.raw

    def _normalise(self, data: Any) -> Any:
        tensor = self.signature is not None and self.signature.inputs is not None and self.signature.inputs.is_tensor
        if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
            import pandas as pd

            return pd.DataFrame.from_records(data)
        if isinstance(data, (list, tuple)):
            return np.asarray(data)
        if isinstance(data, dict) and not tensor and self._flavor not in ("python_model",):
            if all(isinstance(v, np.ndarray) for v in data.values()) and self._flavor in ("onnx", "pytorch"):
                return data
            import pandas as pd

            return pd.DataFrame({k: (v if isinstance(v, (list, tuple, np.ndarray)) else [v]) for k, v in data.items()})
        return data

    def _params(self, params: dict[str, Any] | None) -> dict[str, Any] | None:
        specs = self.signature.params if self.signature else None
        if not specs:
            return params
        merged = {p["name"]: p.get("default") for p in specs}
        merged.update(params or {})
        return merged

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on a DataFrame, dict, numpy array or list of records.

        Raises ``InvalidParameter`` naming every missing, unexpected and mistyped column
        when the input does not match the model's signature.
        """
        data = self._normalise(data)
        if self.signature is not None and self.signature.inputs is not None:
            data = enforce_schema(self.signature.inputs, data)
        return self._predictor.predict(data, self._params(params))

    def __repr__(self) -> str:
        return f"PyFuncModel(flavor={self._flavor!r}, path={str(self._path)!r})"


def _trust_setting(client: "TrackingClient | None") -> bool:
    settings = getattr(client, "settings", None)
    if settings is None:
        from stead.config import load_settings

        settings = load_settings()
    return bool(getattr(settings, "trust_pickle", False))


def _add_code_path(model_dir: Path, conf: dict[str, Any]) -> None:
    code = conf.get("code")
    if code:
        path = str(inside(model_dir, code, "code path"))
        if path not in sys.path:
            sys.path.insert(0, path)


def load_model(path_or_uri: str | Path, *, client: "TrackingClient | None" = None,
               model_config: Mapping[str, Any] | None = None, trust: bool | None = None) -> PyFuncModel:
    """Load a model saved by stead or MLflow: a local directory, ``runs:/<run_id>/<path>``,
    or ``models:/<name>/<version|@alias>``. ``model_config`` updates the MLmodel's own
    (as in MLflow), e.g. ``{"device": "cuda"}`` for a PyTorch model.

    ``trust=True`` allows unpickling the model's files (scikit-learn pickles, PythonModels,
    eager PyTorch modules), which runs code from them: pass it only for models you or your
    team wrote. The default is the ``trust_pickle`` setting (``STEAD_TRUST_PICKLE``, off);
    without it such a model raises ``UntrustedModel`` naming the file.

    Example: ``model = stead.load_model("runs:/4f1c.../model", trust=True); model.predict(df)``
    """
    if model_config is not None and not isinstance(model_config, Mapping):
        from stead.errors import InvalidParameter

        raise InvalidParameter(f"model_config must be a mapping, not {type(model_config).__name__}")
    config = dict(model_config or {})
    if trust is not None:
        config[TRUST_KEY] = bool(trust)
    elif TRUST_KEY not in config:
        config[TRUST_KEY] = _trust_setting(client)
    resolved = resolve(path_or_uri, client=client)
    try:
        mlmodel = MLmodel.load(resolved.path)
        conf = mlmodel.pyfunc
        name = for_loader(conf.get("loader_module"))
        if trusted(config):  # a code folder on sys.path can shadow any later import
            _add_code_path(resolved.path, conf)
        predictor = load_flavor(name, resolved.path, mlmodel, config)
    except UntrustedModel as exc:
        resolved.cleanup()
        if resolved.temporary:  # name the model the caller asked for, not its private copy
            exc.message = exc.message.replace(str(resolved.path), str(path_or_uri).rstrip("/"))
            exc.args = (exc.message,)
        raise
    except BaseException:
        resolved.cleanup()
        raise
    model = PyFuncModel(mlmodel, predictor, name, resolved.path)
    if resolved.temporary:
        weakref.finalize(model, resolved.cleanup)
    return model

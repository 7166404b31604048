"""scikit-learn models (and anything with the estimator API): a pickle in MLflow's layout.

``model_config`` key ``stead.native_linear`` (set by ``stead serve``): a linear model is run by
``sklearn_native`` with NumPy alone when the file holds one, without importing scikit-learn
(and without unpickling, so it needs no opt-in). The pickle and cloudpickle formats load only
with the caller's opt-in (``stead.models.trust``); skops loads its own safe types without one,
and the MLmodel's ``skops_trusted_types`` list (written by the model's author) counts only
with it.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stead.errors import InvalidParameter
from stead.models.env import pinned
from stead.models.flavors import Saved, require
from stead.models.mlmodel import PYFUNC, MLmodel
from stead.models.paths import inside
from stead.models.trust import require_trust, trusted

NAME = "sklearn"
LOADER = "mlflow.sklearn"
_FILE = "model.pkl"
NATIVE_LINEAR = "stead.native_linear"  # model_config key: run linear models with NumPy alone
_FORMATS = ("cloudpickle", "pickle", "skops")
_PREDICT_FNS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba", "score")


def save(model: Any, model_dir: Path) -> Saved:
    sklearn = require("sklearn", "Saving a scikit-learn model", "sklearn")
    cloudpickle = require("cloudpickle", "Saving a scikit-learn model", "sklearn")
    with open(model_dir / _FILE, "wb") as f:
        cloudpickle.dump(model, f)
    flavor = {
        "code": None,
        "pickled_model": _FILE,
        "serialization_format": "cloudpickle",
        "sklearn_version": sklearn.__version__,
    }
    pyfunc = {"loader_module": LOADER, "model_path": _FILE, "predict_fn": "predict"}
    reqs = [p for p in (pinned("scikit-learn"), pinned("cloudpickle")) if p]
    return Saved(flavor, pyfunc, reqs)


class _Predictor:
    def __init__(self, raw: Any, predict_fn: str) -> None:
        self.raw = raw
        self._fn = getattr(raw, predict_fn)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._fn(data)


def _skops(path: Path, conf: dict[str, Any], config: Mapping[str, Any] | None) -> Any:
    skops_io = require("skops.io", "Loading a scikit-learn model saved in the skops format", "sklearn")
    listed = conf.get("skops_trusted_types")
    if listed is not None and not (isinstance(listed, list) and all(isinstance(t, str) for t in listed)):
        raise InvalidParameter("MLmodel 'skops_trusted_types' must be a list of type names")
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return skops_io.load(path, trusted=listed if trusted(config) else None)
    except UntrustedTypesFoundException:
        extra = skops_io.get_untrusted_types(file=path)
        require_trust(config, path, f"a skops file with types outside skops' safe defaults ({', '.join(extra)})")
        raise


def _unpickle(path: Path, fmt: str, conf: dict[str, Any], config: Mapping[str, Any] | None) -> Any:
    if fmt == "skops":
        return _skops(path, conf, config)
    require_trust(config, path, f"a scikit-learn model in the {fmt} format")
    with open(path, "rb") as f:
        if fmt == "cloudpickle":
            return require("cloudpickle", "Loading a scikit-learn model", "sklearn").load(f)
        return pickle.load(f)


def load(model_dir: Path, mlmodel: MLmodel, config: Mapping[str, Any] | None = None) -> _Predictor:
    pyfunc = mlmodel.flavors.get(PYFUNC, {})
    conf = mlmodel.flavors.get(NAME) or {}
    fmt = conf.get("serialization_format", "pickle")
    if fmt not in _FORMATS:
        raise InvalidParameter(f"MLmodel sklearn serialization_format {fmt!r} is not one of {', '.join(_FORMATS)}")
    rel = conf.get("pickled_model") or pyfunc.get("model_path")
    path = inside(model_dir, rel, "sklearn model path")
    predict_fn = pyfunc.get("predict_fn", "predict")
    if predict_fn not in _PREDICT_FNS:
        raise InvalidParameter(f"MLmodel predict_fn {predict_fn!r} is not one of {', '.join(_PREDICT_FNS)}")
    if (config or {}).get(NATIVE_LINEAR) and predict_fn in ("predict", "predict_proba"):
        from stead.models.flavors.sklearn_native import read_native

        native = read_native(path, fmt)
        if native is not None and hasattr(native, predict_fn):
            return _Predictor(native, predict_fn)
    model = _unpickle(path, fmt, conf, config)
    return _Predictor(model, predict_fn)

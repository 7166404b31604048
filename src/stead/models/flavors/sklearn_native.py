"""scikit-learn linear models run with NumPy alone, for serving.

Importing scikit-learn costs a serving process seconds of start-up and well over 100 MB of
memory (it pulls in SciPy, pandas and pyarrow), while a fitted linear model is two arrays
and a dot product. For the estimators listed in ``_ESTIMATORS``, stead reads the saved model
(a pickle, cloudpickle or skops file) without importing scikit-learn and predicts with the
same arithmetic scikit-learn uses. Anything else in the file (another estimator, a pipeline,
a reference to any other code) makes ``read_native`` answer ``None`` and the caller loads the
model with scikit-learn as usual, so this path can only ever be skipped, never be wrong about
which model it runs. Reading a pickle here also never runs code from the file: only NumPy's
array constructors and the listed classes are allowed.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["NativeLinearClassifier", "NativeLinearModel", "read_native"]

_CLASSIFIERS = {("sklearn.linear_model._logistic", "LogisticRegression")}
_REGRESSORS = {
    ("sklearn.linear_model._base", "LinearRegression"),
    ("sklearn.linear_model._ridge", "Ridge"),
    ("sklearn.linear_model._coordinate_descent", "Lasso"),
    ("sklearn.linear_model._coordinate_descent", "ElasticNet"),
}
_ESTIMATORS = _CLASSIFIERS | _REGRESSORS
_CLASSIFIER_NAMES = {name for _, name in _CLASSIFIERS}

# NumPy's own pickle helpers: they rebuild arrays, dtypes and scalars and run nothing else.
_NUMPY_GLOBALS = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer"),
    ("_codecs", "encode"), ("copyreg", "_reconstructor"), ("builtins", "object"),
}


class _NotNative(Exception):
    """The file holds something this module does not run; load it with scikit-learn."""


class NativeLinearModel:
    """A fitted linear regressor's state; ``predict`` computes what scikit-learn computes."""

    def __init__(self, kind: str, state: dict[str, Any]) -> None:
        self.estimator = kind
        self.coef_ = np.asarray(state["coef_"], dtype=np.float64)
        self.intercept_ = np.asarray(state.get("intercept_", 0.0), dtype=np.float64)
        self.n_features_in_ = int(state.get("n_features_in_") or self.coef_.shape[-1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.estimator}, {self.n_features_in_} features)"

    def _check(self, X: Any) -> np.ndarray:
        X = np.asarray(X)
        if X.dtype.kind not in "fiub":
            raise ValueError(f"{self.estimator} takes numbers; got an array of {X.dtype}")
        if X.dtype != np.float32:
            X = X.astype(np.float64, copy=False)
        if X.ndim != 2:
            raise ValueError(f"Expected a 2D array, got {X.ndim}D; reshape to (n_samples, n_features)")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {self.estimator} is expecting "
                             f"{self.n_features_in_} features as input.")
        if not np.isfinite(X).all():
            what = "NaN" if np.isnan(X).any() else f"infinity or a value too large for {X.dtype!r}"
            raise ValueError(f"Input X contains {what}.")
        return X

    def predict(self, X: Any) -> np.ndarray:
        return self._check(X) @ self.coef_.T + self.intercept_


class NativeLinearClassifier(NativeLinearModel):
    """A fitted logistic regression: ``predict`` and ``predict_proba`` as scikit-learn has them."""

    def __init__(self, kind: str, state: dict[str, Any]) -> None:
        super().__init__(kind, state)
        self.classes_ = np.asarray(state["classes_"])
        self._softmax = _uses_softmax(state, len(self.classes_))

    def decision_function(self, X: Any) -> np.ndarray:
        scores = self._check(X) @ self.coef_.T + self.intercept_
        return scores.reshape(-1) if scores.ndim > 1 and scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        indices = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_.take(indices, axis=0)

    def predict_proba(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        if self._softmax:
            return _softmax(np.c_[-scores, scores] if scores.ndim == 1 else scores)
        p = _expit(scores)
        if p.ndim == 1:
            return np.vstack([1 - p, p]).T
        return p / p.sum(axis=1).reshape((p.shape[0], -1))


def read_native(path: Path, fmt: str) -> NativeLinearModel | None:
    """The model in ``path`` (``fmt``: pickle, cloudpickle or skops) as a ``NativeLinearModel``,
    or ``None`` when it is anything this module does not run."""
    try:
        kind, state = _read_skops(path) if fmt == "skops" else _read_pickle(path)
        if not isinstance(state, dict) or not isinstance(state.get("coef_"), np.ndarray):
            return None
        model = (NativeLinearClassifier if kind in _CLASSIFIER_NAMES else NativeLinearModel)(kind, state)
        if model.coef_.ndim not in (1, 2) or model.coef_.shape[-1] != model.n_features_in_:
            return None
        return model
    except (_NotNative, KeyError, TypeError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile,
            EOFError, AttributeError, IndexError):
        return None


# ---- readers ---------------------------------------------------------------------------

class _Stand:
    """What an allowed estimator class unpickles into: its state, nothing run."""

    kind = ""

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        if (module, name) in _ESTIMATORS:
            return type(name, (_Stand,), {"kind": name})
        raise _NotNative(f"{module}.{name}")


def _read_pickle(path: Path) -> tuple[str, Any]:
    with open(path, "rb") as f:
        obj = _Unpickler(f).load()
    if not isinstance(obj, _Stand):
        raise _NotNative(type(obj).__name__)
    return obj.kind, getattr(obj, "state", None)


def _read_skops(path: Path) -> tuple[str, Any]:
    with zipfile.ZipFile(path) as zf:
        schema = json.loads(zf.read("schema.json"))
        if (schema.get("__module__"), schema.get("__class__")) not in _ESTIMATORS or \
                schema.get("__loader__") != "ObjectNode":
            raise _NotNative(str(schema.get("__class__")))
        content = schema.get("content") or {}
        if content.get("__loader__") != "DictNode":
            raise _NotNative("state")
        state = {key: _skops_value(node, zf) for key, node in content["content"].items()}
    return schema["__class__"], state


def _skops_value(node: dict[str, Any], zf: zipfile.ZipFile) -> Any:
    loader = node.get("__loader__")
    if loader == "JsonNode":
        return json.loads(node["content"])
    if loader == "NdArrayNode" and node.get("type") == "numpy":
        return np.load(io.BytesIO(zf.read(node["file"])), allow_pickle=False)
    if loader == "NdArrayNode" and node.get("type") == "json":
        return np.array([_skops_value(item, zf) for item in node["content"]], dtype=object)
    raise _NotNative(str(loader))


# ---- scikit-learn's arithmetic ---------------------------------------------------------

def _uses_softmax(state: dict[str, Any], n_classes: int) -> bool:
    """scikit-learn >= 1.7 has no ``multi_class``: one-vs-rest logistic for two classes,
    softmax for more. Older versions chose by ``multi_class`` (and the solver)."""
    multi_class = state.get("multi_class")
    if multi_class is None or multi_class == "deprecated":
        return n_classes > 2
    ovr = multi_class in ("ovr", "warn") or (
        multi_class == "auto" and (n_classes <= 2 or state.get("solver") == "liblinear"))
    return not ovr


def _expit(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=1).reshape((-1, 1))
    x = np.exp(x)
    return x / x.sum(axis=1).reshape((-1, 1))

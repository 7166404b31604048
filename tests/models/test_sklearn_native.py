"""scikit-learn linear models run with NumPy alone: the same answers as scikit-learn, read
from every file format the sklearn flavor takes, and nothing else is ever run by it."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from stead.models.flavors.sklearn_native import (  # noqa: E402
    NativeLinearClassifier,
    NativeLinearModel,
    read_native,
)

RNG = np.random.default_rng(7)
X = RNG.normal(size=(300, 6)) * [1, 3, 0.5, 10, 1, 2]
X_NEW = RNG.normal(size=(200, 6)) * 40  # far outside the training range: saturated probabilities too


def _binary() -> LogisticRegression:
    return LogisticRegression(max_iter=500).fit(X, (X[:, 0] + X[:, 1] > 0).astype(int))


def _multiclass() -> LogisticRegression:
    labels = np.array(["low", "mid", "high"])[np.digitize(X[:, 1], [-1.5, 1.5])]
    return LogisticRegression(max_iter=500).fit(X, labels)


def _two_targets() -> LinearRegression:
    return LinearRegression().fit(X, np.c_[X @ np.arange(6.0), X[:, 0] - 2])


def _column_target() -> LinearRegression:
    return LinearRegression().fit(X, (X @ np.arange(6.0)).reshape(-1, 1))


ESTIMATORS = {
    "binary-logistic": _binary,
    "multiclass-logistic": _multiclass,
    "linear": lambda: LinearRegression().fit(X, X @ np.arange(6.0) + 1.5),
    "linear-two-targets": _two_targets,
    "linear-column-target": _column_target,
    "ridge": lambda: Ridge(alpha=2.0).fit(X, X[:, 3] * 0.3),
    "lasso": lambda: Lasso(alpha=0.1).fit(X, X[:, 2] - X[:, 4]),
    "elasticnet": lambda: ElasticNet(alpha=0.1).fit(X, X[:, 1]),
}


def _write(model: object, tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"model.{fmt}"
    if fmt == "skops":
        sio = pytest.importorskip("skops.io")
        sio.dump(model, path)
    elif fmt == "cloudpickle":
        cloudpickle = pytest.importorskip("cloudpickle")
        path.write_bytes(cloudpickle.dumps(model))
    else:
        path.write_bytes(pickle.dumps(model, protocol=2))
    return path


@pytest.mark.parametrize("fmt", ["pickle", "cloudpickle", "skops"])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_native_answers_match_scikit_learn(tmp_path: Path, name: str, fmt: str) -> None:
    model = ESTIMATORS[name]()
    native = read_native(_write(model, tmp_path, fmt), fmt)
    assert native is not None, f"{name} in {fmt} should run natively"
    predicted = native.predict(X_NEW)
    assert predicted.shape == model.predict(X_NEW).shape and predicted.dtype == model.predict(X_NEW).dtype
    if isinstance(model, LogisticRegression):
        assert isinstance(native, NativeLinearClassifier)
        assert (predicted == model.predict(X_NEW)).all()
        np.testing.assert_allclose(native.predict_proba(X_NEW), model.predict_proba(X_NEW), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(native.decision_function(X_NEW), model.decision_function(X_NEW), rtol=1e-12)
    else:
        assert type(native) is NativeLinearModel and not hasattr(native, "predict_proba")
        np.testing.assert_allclose(predicted, model.predict(X_NEW), rtol=1e-12, atol=1e-9)


def test_bad_input_is_refused_as_scikit_learn_refuses_it(tmp_path: Path) -> None:
    native = read_native(_write(_binary(), tmp_path, "pickle"), "pickle")
    assert native is not None
    with pytest.raises(ValueError, match="X has 2 features, but LogisticRegression is expecting 6"):
        native.predict(X_NEW[:, :2])
    bad = X_NEW[:3].copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        native.predict(bad)
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        native.predict(bad)


def test_old_multi_class_settings_choose_the_probability_rule() -> None:
    coef = np.array([[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]])
    state = {"coef_": coef, "intercept_": np.zeros(3), "classes_": np.array([0, 1, 2]), "n_features_in_": 2}
    x = np.array([[0.3, -0.2], [2.0, 1.0]])
    scores = x @ coef.T
    softmax = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    ovr = 1 / (1 + np.exp(-scores))
    ovr = ovr / ovr.sum(axis=1, keepdims=True)
    for multi_class, solver, want in [(None, "lbfgs", softmax), ("multinomial", "lbfgs", softmax),
                                      ("auto", "lbfgs", softmax), ("auto", "liblinear", ovr), ("ovr", "lbfgs", ovr)]:
        model = NativeLinearClassifier("LogisticRegression", {**state, "multi_class": multi_class, "solver": solver})
        np.testing.assert_allclose(model.predict_proba(x), want, rtol=1e-12)
    binary = {"coef_": np.array([[2.0, -1.0]]), "intercept_": np.array([0.1]), "classes_": np.array([3, 9])}
    d = (x @ np.array([2.0, -1.0])) + 0.1
    one_vs_rest = NativeLinearClassifier("LogisticRegression", {**binary, "multi_class": "auto"})
    np.testing.assert_allclose(one_vs_rest.predict_proba(x)[:, 1], 1 / (1 + np.exp(-d)), rtol=1e-12)
    multinomial = NativeLinearClassifier("LogisticRegression", {**binary, "multi_class": "multinomial"})
    np.testing.assert_allclose(multinomial.predict_proba(x)[:, 1], 1 / (1 + np.exp(-2 * d)), rtol=1e-12)
    assert list(one_vs_rest.predict(x)) == [9 if v > 0 else 3 for v in d]


@pytest.mark.parametrize("fmt", ["pickle", "skops"])
def test_anything_else_is_left_to_scikit_learn(tmp_path: Path, fmt: str) -> None:
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, (X[:, 0] > 0).astype(int))
    assert read_native(_write(pipeline, tmp_path, fmt), fmt) is None
    (tmp_path / "junk.pickle").write_bytes(b"not a pickle")
    assert read_native(tmp_path / "junk.pickle", "pickle") is None


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.system, (f"touch {self.marker}",)


def test_reading_a_pickle_never_runs_code_from_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Exploit(marker)))
    assert read_native(path, "pickle") is None
    assert not marker.exists()


def test_load_model_uses_the_native_path_only_when_asked(tmp_path: Path) -> None:
    from stead.models.pyfunc import load_model
    from stead.models.save import save_model

    model = _binary()
    save_model(model, tmp_path / "m")
    assert isinstance(load_model(tmp_path / "m", trust=True).raw, LogisticRegression)
    native = load_model(tmp_path / "m", model_config={"stead.native_linear": True})
    assert isinstance(native.raw, NativeLinearClassifier)
    assert (native.predict(X_NEW) == model.predict(X_NEW)).all()

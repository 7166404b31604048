"""PCA reconstruction error: the fit agrees with scikit-learn's StandardScaler + PCA, the model
travels in the reference statistics, and a broken correlation is caught that no single
feature shows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stead.errors import InvalidParameter
from stead.monitoring.drift import detect_drift
from stead.monitoring.multivariate import (
    PCAModel,
    fit_pca,
    multivariate_drift,
    reconstruction_errors,
)
from stead.monitoring.reference import ReferenceStats, compute_reference


def _correlated(n: int, rng: np.random.Generator, d: int = 6) -> np.ndarray:
    latent = rng.normal(size=(n, 2))
    mix = np.random.default_rng(0).normal(size=(2, d))  # the same structure for every sample
    return latent @ mix + 0.3 * rng.normal(size=(n, d)) + np.arange(d) * 10


def test_fit_agrees_with_sklearn():
    sklearn = pytest.importorskip("sklearn.decomposition")
    from sklearn.preprocessing import StandardScaler

    x = _correlated(4000, np.random.default_rng(1))
    model = fit_pca(x, [f"f{i}" for i in range(6)])
    z = StandardScaler().fit_transform(x)
    pca = sklearn.PCA(n_components=0.65, svd_solver="full").fit(z[0::2])
    assert len(model.components) == pca.n_components_
    assert model.explained == pytest.approx(pca.explained_variance_ratio_.sum(), rel=1e-9)
    probe = _correlated(500, np.random.default_rng(2))
    zp = StandardScaler().fit(x).transform(probe)
    want = np.linalg.norm(zp - pca.inverse_transform(pca.transform(zp)), axis=1)
    assert reconstruction_errors(model, probe) == pytest.approx(want, rel=1e-8, abs=1e-10)


def test_missing_values_are_imputed_with_the_reference_mean():
    x = _correlated(1000, np.random.default_rng(3))
    model = fit_pca(x, [f"f{i}" for i in range(6)])
    row = x[:1].copy()
    row[0, 2] = np.nan
    filled = row.copy()
    filled[0, 2] = model.means[2]
    assert reconstruction_errors(model, row) == pytest.approx(reconstruction_errors(model, filled))


def test_broken_correlation_is_caught_where_features_are_not():
    rng = np.random.default_rng(4)
    names = [f"f{i}" for i in range(6)]
    ref = compute_reference(dict(zip(names, _correlated(20_000, rng).T)))
    ref = ReferenceStats.from_json(json.loads(json.dumps(ref.to_json())))
    assert ref.multivariate is not None and ref.multivariate.columns == tuple(names)
    same = detect_drift(ref, dict(zip(names, _correlated(5000, rng).T)))
    assert same.multivariate is not None and same.multivariate.drifted is False
    broken = _correlated(5000, rng)
    for j in range(broken.shape[1]):  # each column keeps its distribution, their joint one is gone
        broken[:, j] = rng.permutation(broken[:, j])
    report = detect_drift(ref, dict(zip(names, broken.T)))
    assert report.drifted_features == 0
    assert report.multivariate is not None and report.multivariate.drifted is True
    assert report.multivariate.error > report.multivariate.upper


def test_false_alarms_are_rare_over_many_seeds():
    model = fit_pca(_correlated(10_000, np.random.default_rng(5)), [f"f{i}" for i in range(6)])
    alarms = sum(bool(multivariate_drift(model, _correlated(n, np.random.default_rng(seed))).drifted)
                 for seed in range(60) for n in (200, 2000))
    assert alarms <= 3  # a +-3 std band: about 0.3% of windows in theory


def test_model_round_trips_and_empty_window_is_no_data():
    model = fit_pca(_correlated(500, np.random.default_rng(6)), [f"f{i}" for i in range(6)])
    assert PCAModel.from_json(json.loads(json.dumps(model.to_json()))) == model
    empty = multivariate_drift(model, np.zeros((0, 6)))
    assert (empty.error, empty.drifted, empty.rows) == (None, None, 0)


def test_bad_shapes_are_refused():
    with pytest.raises(InvalidParameter, match="at least 20 rows"):
        fit_pca(np.zeros((5, 2)), ["a", "b"])
    with pytest.raises(InvalidParameter, match="variance"):
        fit_pca(np.zeros((50, 2)), ["a", "b"], variance=1.5)

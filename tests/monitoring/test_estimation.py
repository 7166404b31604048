"""Confidence-based performance estimation (CBPE) tracks the realized performance of a
calibrated model under covariate shift, without the labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.isotonic import IsotonicRegression

from stead.errors import InvalidParameter
from stead.monitoring.estimation import (
    CBPE,
    Calibration,
    estimate_by_window,
    fit_calibration,
    fit_cbpe,
)


def _window(rng: np.random.Generator, n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """One feature, shifted between windows (covariate shift); P(y=1 | x) stays put."""
    x = rng.normal(shift, 1.0, n)
    p = 1 / (1 + np.exp(-2.0 * x))
    return p, (rng.uniform(size=n) < p).astype(int)


def _realized(score: np.ndarray, y: np.ndarray) -> dict[str, float]:
    pred = (score >= 0.5).astype(int)
    return {
        "accuracy": skm.accuracy_score(y, pred),
        "f1": skm.f1_score(y, pred),
        "roc_auc": skm.roc_auc_score(y, score),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("distort", [False, True])
def test_estimate_within_003_of_realized(seed: int, distort: bool) -> None:
    rng = np.random.default_rng(seed)
    p_ref, y_ref = _window(rng, 5000, 0.0)
    # distort: the model's score is a monotone, miscalibrated transform of the truth; the
    # isotonic calibration on the reference window must undo it
    score = (lambda p: p**3) if distort else (lambda p: p)
    model = fit_cbpe(score(p_ref), y_ref, threshold=0.5 ** (3 if distort else 1))
    model = CBPE.from_json(model.to_json())  # what is stored is what estimates
    errors: dict[str, list[float]] = {"f1": [], "roc_auc": []}
    for shift in (-1.0, -0.5, 0.0, 0.7, 1.5):
        p, y = _window(rng, 3000, shift)
        est = model.estimate(score(p))
        real = _realized(p, y)  # the model predicts positive where p >= 0.5 either way
        assert est["accuracy"] == pytest.approx(real["accuracy"], abs=0.03), shift
        assert est["accuracy_std"] < 0.01
        # F1 and ROC AUC are noisier on a window with few of one class (the realized figure
        # itself varies by ~0.02 there): a looser bound per window, a tight one on average
        for metric in errors:
            assert est[metric] == pytest.approx(real[metric], abs=0.06), (shift, metric)
            errors[metric].append(abs(est[metric] - real[metric]))
    assert max(np.mean(e) for e in errors.values()) < 0.02


def test_calibration_matches_sklearn_isotonic() -> None:
    rng = np.random.default_rng(7)
    s = np.round(rng.uniform(size=2000), 3)
    y = (rng.uniform(size=2000) < s**2).astype(float)
    cal = fit_calibration(s, y)
    iso = IsotonicRegression(out_of_bounds="clip").fit(s, y)
    grid = np.linspace(-0.1, 1.1, 500)
    assert np.allclose(cal(grid), iso.predict(grid), atol=1e-12)
    assert len(cal.x) < 400  # compact: only the ends of the flat steps
    assert Calibration.from_json(cal.to_json()) == cal


def test_windows_are_marked_estimated() -> None:
    rng = np.random.default_rng(11)
    p_ref, y_ref = _window(rng, 2000, 0.0)
    model = fit_cbpe(p_ref, y_ref)
    assert model.reference["accuracy"] == pytest.approx(skm.accuracy_score(y_ref, p_ref >= 0.5))
    p, _ = _window(rng, 1000, 0.3)
    ts = np.repeat([0.0, 3600.0], 500) + 1.0
    variants = np.tile(["primary", "canary"], 500)
    records = estimate_by_window(model, ts, p, window=3600, variants=variants)
    assert [(r.start, r.variant, r.n) for r in records] == [
        (0.0, "canary", 250), (0.0, "primary", 250), (3600.0, "canary", 250), (3600.0, "primary", 250)
    ]
    assert all(r.estimated and r.extra["method"] == "cbpe" for r in records)
    later = estimate_by_window(model, ts, p, window=3600, start=0, end=3 * 3600)
    assert [(r.start, r.variant, r.n) for r in later] == [(0.0, None, 500), (3600.0, None, 500), (7200.0, None, 0)]
    assert later[-1].metrics == {"accuracy": None, "f1": None, "roc_auc": None}
    assert model.estimate(np.array([]))["accuracy"] is None


def test_reference_must_be_binary_with_both_classes() -> None:
    with pytest.raises(InvalidParameter, match="both classes"):
        fit_cbpe([0.2, 0.4], [0, 0])
    with pytest.raises(InvalidParameter, match="binary"):
        fit_cbpe([0.2, 0.4, 0.5], [0, 1, 2])
    with pytest.raises(InvalidParameter, match="positive="):
        fit_cbpe([0.2, 0.4], ["no", "yes"])
    assert fit_cbpe([0.2, 0.4], ["no", "yes"], positive="yes").n_reference == 2
    assert fit_cbpe([0.2, 0.4, 0.9], ["no", "yes", None], positive="yes").n_reference == 2

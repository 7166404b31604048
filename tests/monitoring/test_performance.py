"""Realized performance per window and variant, checked against sklearn.metrics."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as skm

from stead.errors import InvalidParameter
from stead.monitoring.performance import (
    PerformanceRecord,
    accuracy,
    classification_metrics,
    f1,
    mae,
    performance_by_window,
    rmse,
    roc_auc,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    # probabilities rounded to two places: many ties, which ROC AUC must average like sklearn
    p = np.clip(np.round(0.3 * y + rng.uniform(0, 0.7, 500), 2), 0, 1)
    pred = (p >= 0.5).astype(int)
    got = classification_metrics(pred, y, p)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-12)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)


def test_binary_f1_of_a_named_positive_class() -> None:
    y = np.array(["churn", "stay", "churn", "stay", "churn"])
    pred = np.array(["churn", "churn", "stay", "stay", "churn"])
    assert f1(pred, y, positive="churn") == pytest.approx(skm.f1_score(y, pred, pos_label="churn"))
    # the classes the model knows may be longer strings than any in this window
    assert f1(pred, y, positive="churn", classes=["churn", "stay", "undecided"]) == pytest.approx(
        skm.f1_score(y, pred, average="macro")
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_f1_is_macro_like_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, 300)
    pred = np.where(rng.uniform(size=300) < 0.6, y, rng.integers(0, 4, 300))
    assert f1(pred, y) == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=1e-12)
    assert accuracy(pred, y) == pytest.approx(skm.accuracy_score(y, pred))
    # a window holding two of the four classes is still scored as multiclass (macro)
    part = (y < 2) & (pred < 2)
    got = f1(pred[part], y[part], classes=[0, 1, 2, 3])
    assert got == pytest.approx(skm.f1_score(y[part], pred[part], average="macro"), abs=1e-12)


def test_multiclass_roc_auc_is_one_against_rest_like_sklearn() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 3, 600)
    logits = rng.normal(size=(600, 3)) + 1.5 * np.eye(3)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = p.argmax(axis=1)
    got = classification_metrics(pred, y, p)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"), abs=1e-12)
    # per window, with the probabilities as a pyarrow list column (as a prediction log has them)
    ts = np.repeat([0.0, 60.0], 300)
    records = performance_by_window(ts, pred, y, window=60, probabilities=pa.array(p.tolist()))
    for r, rows in zip(records, (slice(0, 300), slice(300, 600)), strict=True):
        assert r.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y[rows], p[rows], multi_class="ovr"))
        assert r.metrics["f1"] == pytest.approx(skm.f1_score(y[rows], pred[rows], average="macro"))


def test_regression_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(10, 3, 400)
    pred = y + rng.normal(0, 1, 400)
    assert mae(pred, y) == pytest.approx(skm.mean_absolute_error(y, pred), rel=1e-12)
    assert rmse(pred, y) == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)), rel=1e-12)


def test_undefined_metrics_are_none_not_numbers() -> None:
    assert roc_auc([0.2, 0.9], [1, 1]) is None  # one class: sklearn raises, we say "no data"
    assert f1([0, 0], [0, 0]) is None  # no positive anywhere
    assert accuracy([], []) is None
    assert mae(np.array([]), np.array([])) is None


def test_windows_and_variants_match_sklearn_per_group() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    ts = 1_700_000_000 + rng.uniform(0, 4 * 3600, n)
    variant = rng.choice(["primary", "canary"], n)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + rng.uniform(0, 0.65, n), 0, 1)
    pred = (p > 0.5).astype(int)
    records = performance_by_window(ts, pred, y, window=3600, probabilities=p, variants=variant)
    assert sum(r.n for r in records) == n
    starts = np.floor(ts / 3600) * 3600
    for r in records:
        rows = (starts == r.start) & (variant == r.variant)
        assert r.n == rows.sum() and r.end == r.start + 3600
        assert r.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y[rows], pred[rows]))
        assert r.metrics["f1"] == pytest.approx(skm.f1_score(y[rows], pred[rows]))
        assert r.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y[rows], p[rows]))
        assert not r.estimated
    assert [r.start for r in records] == sorted(r.start for r in records)


def test_unlabelled_and_empty_windows_say_no_data() -> None:
    # labels arrive late: the second window's rows have none (pyarrow nulls); the third
    # window has no traffic at all and appears only because start/end ask for it
    ts = pa.array([0.0, 10.0, 20.0, 70.0, 80.0])
    labels = pa.array([1, 0, 1, None, None], type=pa.int64())
    preds = pa.array([1, 1, 1, 0, 1])
    records = performance_by_window(ts, preds, labels, window=60, start=0, end=180)
    assert [(r.start, r.n) for r in records] == [(0.0, 3), (60.0, 0), (120.0, 0)]
    assert records[0].metrics["accuracy"] == pytest.approx(2 / 3)
    for r in records[1:]:
        assert r.no_data and set(r.metrics.values()) == {None}
    assert PerformanceRecord.from_json(records[0].to_json()) == records[0]
    assert PerformanceRecord.from_json(records[1].to_json()) == records[1]


def test_regression_windows_with_nan_labels() -> None:
    ts = np.array([0, 1, 2, 100, 101], dtype=float)
    y = np.array([1.0, np.nan, 3.0, np.nan, np.nan])
    pred = np.array([2.0, 5.0, 3.0, 1.0, 1.0])
    records = performance_by_window(ts, pred, y, window=100, task="regression")
    assert [(r.start, r.n) for r in records] == [(0.0, 2), (100.0, 0)]
    assert records[0].metrics == {"mae": 0.5, "rmse": pytest.approx(np.sqrt(0.5))}
    assert records[1].metrics == {"mae": None, "rmse": None}


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(InvalidParameter, match="window length"):
        performance_by_window([0.0], [1], [1], window=0)
    with pytest.raises(InvalidParameter, match="labels has 1 rows"):
        performance_by_window([0.0, 1.0], [1, 0], [1], window=60)
    with pytest.raises(InvalidParameter, match="differ in length"):
        accuracy([1, 0], [1])
    with pytest.raises(InvalidParameter, match="positive="):
        performance_by_window([0.0, 1.0], ["yes", "no"], ["yes", "yes"], window=60)


def test_window_edges_do_not_drift_over_many_windows() -> None:
    # windows of a tenth of a second over a quarter of an hour: the empty windows must land on the same
    # starts as the filled ones (no float drift from adding the length again and again)
    ts = np.array([0.05, 863.95])
    records = performance_by_window(ts, [1, 1], [1, 0], window=0.1, start=0, end=864)
    assert len(records) == 8640
    assert sum(r.n for r in records) == 2

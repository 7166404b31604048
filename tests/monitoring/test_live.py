"""Live performance of a deployment: a prediction log written by serving's own
``PredictionLog`` (flushed to a local artifact store), labels from ``log_labels``, a real
metadata store (SQLite and PostgreSQL); the figures checked against scikit-learn.

The log's clock is set (``clock``) so that rows fall into chosen hourly windows without
waiting for hours: ``PredictionLog.record`` stamps each row with ``time.time()``."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, mean_squared_error, roc_auc_score

from stead.artifacts import open_artifact_store
from stead.errors import InvalidParameter, NotFound
from stead.monitoring import live_performance, log_labels
from stead.serving import prediction_log
from stead.serving.deployments import Deployments, Variant
from stead.serving.prediction_log import PredictionLog
from stead.store import open_store

HOUR = 3600.0
T0 = (time.time() // HOUR - 6) * HOUR  # a window boundary six hours ago: predictions come before their labels


class _Clock:
    """Stands in for the ``time`` module inside ``stead.serving.prediction_log``."""

    def __init__(self) -> None:
        self.now = T0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    c = _Clock()
    monkeypatch.setattr(prediction_log, "time", c)
    return c


@pytest.fixture
def deployment(settings):  # type: ignore[no-untyped-def]
    store = open_store(settings.resolved_store_url)
    Deployments(store).create("churn", [Variant("primary", "churn@production", 90),
                                        Variant("canary", "churn@staging", 10)])
    store.dispose()
    return open_artifact_store(settings.resolved_artifacts_url)


def _log(artifacts, clock, rows):  # type: ignore[no-untyped-def]
    """``rows``: (time, variant, request_id, outputs) written through PredictionLog."""
    log = PredictionLog(artifacts, "churn", flush_s=3600, flush_rows=10**9)
    try:
        for i, (t, variant, rid, outputs) in enumerate(rows):
            clock.now = t
            log.record(variant, "1" if variant == "primary" else "2", "v2", rid, 0.002, {"x": [1.0]}, outputs)
            if i % 500 == 499:
                log.flush()  # several files per day folder
    finally:
        log.close()


def _binary_traffic(artifacts, clock, n=6000, seed=7):  # type: ignore[no-untyped-def]
    """A calibrated binary classifier: the label is 1 with the logged probability."""
    rng = np.random.default_rng(seed)
    truth = []
    rows = []
    for i in range(n):
        w = i % 3
        t = T0 + w * HOUR + float(rng.uniform(0, HOUR - 1))
        variant = "primary" if rng.random() < 0.6 else "canary"
        p = float(rng.beta(2, 2)) if variant == "primary" else float(rng.beta(1.2, 1.2))
        y = int(rng.random() < p)
        rows.append((t, variant, f"req-{i}", {"predict": np.array([int(p >= 0.5)]),
                                              "predict_proba": np.array([[1 - p, p]])}))
        truth.append((w, variant, f"req-{i}", y, int(p >= 0.5), p))
    _log(artifacts, clock, rows)
    return truth


def test_realized_metrics_per_window_and_variant_agree_with_sklearn(settings, deployment, clock):
    truth = _binary_traffic(deployment, clock)
    rng = np.random.default_rng(1)
    given = [row for row in truth if rng.random() < 0.8]  # a fifth of the labels have not arrived
    receipt = log_labels("churn", {rid: y for _, _, rid, y, _, _ in given}, settings=settings)
    assert (receipt.matched, receipt.unknown) == (len(given), 0)

    records = live_performance("churn", window=HOUR, start=T0, end=T0 + 3 * HOUR, settings=settings)
    realized = [r for r in records if not r.estimated]
    assert [(r.start, r.variant) for r in realized] == [
        (T0 + w * HOUR, v) for w in range(3) for v in ("canary", "primary")]
    for r in realized:
        w = int((r.start - T0) // HOUR)
        cell = [row for row in given if row[0] == w and row[1] == r.variant]
        y = [row[3] for row in cell]
        pred = [row[4] for row in cell]
        score = [row[5] for row in cell]
        assert r.n == len(cell) and r.task == "classification"
        assert r.extra["rows"] == sum(1 for row in truth if row[0] == w and row[1] == r.variant)
        assert r.metrics["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
        assert r.metrics["f1"] == pytest.approx(f1_score(y, pred), abs=1e-12)
        assert r.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_while_labels_lag_an_estimate_stands_beside_the_realized_figure(settings, deployment, clock):
    # CBPE's isotonic calibration is a little optimistic on a small reference (about +0.03
    # accuracy from 800 labelled rows, +0.015 from 2,000): 2,000 to 3,000 per variant here
    truth = _binary_traffic(deployment, clock, n=15000)
    # labels so far only for the first window; the later two have none yet
    log_labels("churn", {rid: y for w, _, rid, y, _, _ in truth if w == 0}, settings=settings)
    records = live_performance("churn", window=HOUR, start=T0, end=T0 + 3 * HOUR, settings=settings)
    estimated = [r for r in records if r.estimated]
    assert [(r.start, r.variant) for r in estimated] == [
        (T0 + w * HOUR, v) for w in (1, 2) for v in ("canary", "primary")]  # the first window has all its labels
    for r in estimated:
        w = int((r.start - T0) // HOUR)
        cell = [row for row in truth if row[0] == w and row[1] == r.variant]
        actual = accuracy_score([row[3] for row in cell], [row[4] for row in cell])
        assert r.n == len(cell) and r.extra["method"] == "cbpe"
        assert abs(r.metrics["accuracy"] - actual) < 0.03, (r, actual)
    later = [r for r in records if not r.estimated and r.start > T0]
    assert all(r.n == 0 and r.metrics["accuracy"] is None and r.extra["rows"] > 0 for r in later)


def test_a_reference_window_calibrates_the_estimate(settings, deployment, clock):
    truth = _binary_traffic(deployment, clock, n=3000)
    log_labels("churn", {rid: y for w, _, rid, y, _, _ in truth if w == 0}, settings=settings)
    records = live_performance("churn", window=HOUR, start=T0 + HOUR, end=T0 + 3 * HOUR,
                               reference=(T0, T0 + HOUR), settings=settings)
    estimated = [r for r in records if r.estimated]
    assert len(estimated) == 4 and all(r.extra["n_reference"] > 300 for r in estimated)
    # without a reference, the range itself has no labels: nothing to calibrate on, no estimate made up
    bare = live_performance("churn", window=HOUR, start=T0 + HOUR, end=T0 + 3 * HOUR, settings=settings)
    assert not [r for r in bare if r.estimated]


def test_a_later_label_wins_in_the_figures(settings, deployment, clock):
    _log(deployment, clock, [(T0 + i, "primary", f"r{i}", {"predict": np.array([1])}) for i in range(10)])
    log_labels("churn", {f"r{i}": 0 for i in range(10)}, settings=settings)
    first = live_performance("churn", window=HOUR, start=T0, end=T0 + HOUR, settings=settings, estimate=False)
    assert [r.metrics["accuracy"] for r in first] == [0.0]
    log_labels("churn", {f"r{i}": 1 for i in range(5)}, settings=settings)
    second = live_performance("churn", window=HOUR, start=T0, end=T0 + HOUR, settings=settings)
    assert [(r.n, r.metrics["accuracy"]) for r in second] == [(10, 0.5)]


def test_a_request_of_several_rows_is_scored_row_by_row(settings, deployment, clock):
    _log(deployment, clock, [(T0 + 5, "primary", "batch", {"predict": np.array([1, 0, 1])}),
                             (T0 + 6, "primary", "single", {"predict": np.array([0])})])
    log_labels("churn", {"batch": [1, 1, 1], "single": 0}, settings=settings)
    (record,) = live_performance("churn", window=HOUR, start=T0, end=T0 + HOUR, settings=settings)
    assert (record.n, record.extra["rows"]) == (4, 4)
    assert record.metrics["accuracy"] == pytest.approx(accuracy_score([1, 1, 1, 0], [1, 0, 1, 0]))


def test_regression_figures_agree_with_sklearn(settings, deployment, clock):
    rng = np.random.default_rng(3)
    y_true = rng.normal(50, 10, 400)
    y_pred = y_true + rng.normal(0, 3, 400)
    _log(deployment, clock, [(T0 + i, "primary", f"r{i}", {"predict": np.array([y_pred[i]])}) for i in range(400)])
    log_labels("churn", {f"r{i}": float(y_true[i]) for i in range(400)}, settings=settings)
    (record,) = live_performance("churn", window=HOUR, start=T0, end=T0 + HOUR, settings=settings)
    assert record.task == "regression" and record.n == 400
    assert record.metrics["mae"] == pytest.approx(mean_absolute_error(y_true, y_pred), rel=1e-12)
    assert record.metrics["rmse"] == pytest.approx(math.sqrt(mean_squared_error(y_true, y_pred)), rel=1e-12)


def test_multiclass_roc_auc_from_the_logged_probabilities(settings, deployment, clock):
    rng = np.random.default_rng(5)
    proba = rng.dirichlet([1, 1, 1], 600)
    y = np.array([rng.choice(3, p=p) for p in proba])
    _log(deployment, clock, [(T0 + i, "primary", f"r{i}", {"predict": np.array([int(proba[i].argmax())]),
                                                           "predict_proba": proba[i:i + 1]}) for i in range(600)])
    log_labels("churn", {f"r{i}": int(y[i]) for i in range(600)}, settings=settings)
    (record,) = live_performance("churn", window=HOUR, start=T0, end=T0 + HOUR, settings=settings)
    assert record.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr"), abs=1e-12)
    assert record.metrics["f1"] == pytest.approx(f1_score(y, proba.argmax(axis=1), average="macro"), abs=1e-12)


def test_a_window_without_traffic_says_no_data(settings, deployment, clock):
    _log(deployment, clock, [(T0 + 10, "primary", "r0", {"predict": np.array([1])})])
    records = live_performance("churn", window=HOUR, start=T0 - 3 * HOUR, end=T0 - HOUR, settings=settings)
    assert [(r.n, r.extra["rows"], r.estimated) for r in records] == [(0, 0, False), (0, 0, False)]
    assert all(v is None for r in records for v in r.metrics.values())


def test_failed_requests_and_shadows_are_not_scored(settings, deployment, clock):
    log = PredictionLog(deployment, "churn", flush_s=3600)
    clock.now = T0 + 1
    log.record("primary", "1", "v2", "ok", 0.001, {"x": [1.0]}, {"predict": np.array([1])})
    log.record("canary", "2", "shadow", None, 0.001, {"x": [1.0]}, {"error": "boom"}, shadow=True, status=500)
    log.record("canary", "2", "shadow", None, 0.001, {"x": [1.0]}, {"predict": np.array([0])}, shadow=True)
    log.record("primary", "1", "v2", "refused", 0.001, {"x": [1.0]}, {"predict": np.array([0])}, status=400)
    log.close()
    log_labels("churn", {"ok": 1}, settings=settings)
    records = live_performance("churn", window=HOUR, start=T0, end=T0 + HOUR, settings=settings)
    assert [(r.variant, r.n, r.metrics["accuracy"]) for r in records] == [("primary", 1, 1.0)]


def test_unknown_deployment_and_bad_ranges(settings, deployment):
    with pytest.raises(NotFound, match="Deployment 'nope' does not exist"):
        live_performance("nope", window=HOUR, settings=settings)
    with pytest.raises(InvalidParameter, match="window length must be positive"):
        live_performance("churn", window=0, settings=settings)
    with pytest.raises(InvalidParameter, match="time range is empty"):
        live_performance("churn", window=HOUR, start=T0, end=T0, settings=settings)


def _stead(settings, *args):  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    env = {**os.environ, "STEAD_HOME": str(settings.home), "STEAD_STORE_URL": settings.resolved_store_url,
           "STEAD_ARTIFACTS_URL": settings.resolved_artifacts_url, "STEAD_TRACKING_URI": ""}
    return subprocess.run([sys.executable, "-c", "from stead.cli.main import run; run()", "monitor", *args],
                          env=env, capture_output=True, text=True, timeout=120)


def test_stead_monitor_labels_and_performance_from_the_shell(settings, deployment, tmp_path):
    import json

    log = PredictionLog(deployment, "churn", flush_s=3600)
    for i in range(4):
        log.record("primary", "1", "v2", f"r{i}", 0.001, {"x": [1.0]},
                   {"predict": np.array([i % 2]), "predict_proba": np.array([[0.6, 0.4] if i % 2 == 0 else [0.3, 0.7]])})
    log.close()
    csv = tmp_path / "labels.csv"
    csv.write_text("request_id,label\nr0,0\nr1,1\nr2,1\nghost,1\n")
    done = _stead(settings, "labels", "churn", str(csv))
    assert done.returncode == 0, done.stderr
    assert "logged 4 labels for churn: 3 matched, 1 unknown" in done.stdout and "ghost" in done.stdout
    lines = tmp_path / "more.jsonl"
    lines.write_text('{"request_id": "r3", "label": 1}\n')
    assert json.loads(_stead(settings, "labels", "churn", str(lines), "--json").stdout)["matched"] == 1

    shown = json.loads(_stead(settings, "performance", "churn", "--window", "1h", "--since", "2h", "--json").stdout)
    realized = [r for r in shown if not r["estimated"] and r["n"]]
    assert {r["variant"] for r in realized} == {"primary"}  # two windows if the rows straddle an hour
    assert sum(r["n"] for r in realized) == 4 and sum(r["n"] * r["metrics"]["accuracy"] for r in realized) == 3
    table = _stead(settings, "performance", "churn", "--since", "2h")
    assert table.returncode == 0 and "live performance of churn" in table.stdout and "realized" in table.stdout
    missing = _stead(settings, "labels", "nope", str(csv))
    assert missing.returncode != 0 and "Deployment 'nope' does not exist" in missing.stderr
    bad = _stead(settings, "performance", "churn", "--window", "soon")
    assert bad.returncode != 0 and "not a duration" in bad.stderr

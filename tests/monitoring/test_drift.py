"""Drift: each test, computed from stored statistics, agrees with scipy on the raw data; the
test is chosen as Evidently chooses it; same-distribution data raises alarms near the nominal
rate and shifted data is caught; bad input is reported in the report, not raised."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats
from scipy.spatial import distance

from stead.errors import InvalidParameter
from stead.monitoring.drift import DriftReport, detect_drift
from stead.monitoring.reference import ReferenceStats, compute_reference

# The binned Wasserstein distance (large references) is exact unless the two ECDFs cross
# inside one of the ~100 reference bins; measured over normal, log-normal, zero-inflated
# and Student-t data it stays within this of scipy's (in units of the reference std).
WASSERSTEIN_TOLERANCE = {"rel": 0.03, "abs": 0.002}


def _drift(ref_data, cur_data, **kw):
    ref = compute_reference(ref_data, multivariate=False)
    ref = ReferenceStats.from_json(json.loads(json.dumps(ref.to_json())))  # only what is stored
    return detect_drift(ref, cur_data, multivariate=False, **kw)


@pytest.mark.parametrize(("n_ref", "n_cur", "decimals"), [(300, 400, None), (1000, 9000, 1), (700, 60_000, None),
                                                          (500, 50_000, 1)])
def test_ks_agrees_with_scipy(n_ref, n_cur, decimals):
    rng = np.random.default_rng(n_ref + n_cur)
    r, c = rng.normal(size=n_ref), rng.normal(0.1, 1.0, n_cur)
    if decimals is not None:  # ties between and within the samples
        r, c = r.round(decimals), c.round(decimals)
    f = _drift({"x": r}, {"x": c}).feature("x")
    want = stats.ks_2samp(r, c)
    assert f.test == "ks"
    assert f.statistic == pytest.approx(want.statistic, rel=1e-12, abs=1e-15)
    assert f.score == pytest.approx(want.pvalue, rel=1e-9, abs=1e-300)
    assert f.drifted == (want.pvalue < 0.05)


def test_chisquare_agrees_with_scipy():
    rng = np.random.default_rng(4)
    cats = ["a", "b", "c", "d"]
    r = rng.choice(cats, 600, p=[0.4, 0.3, 0.2, 0.1]).tolist()
    c = rng.choice(cats, 2000, p=[0.35, 0.3, 0.2, 0.15]).tolist()
    f = _drift({"c": r}, {"c": c}).feature("c")
    want = stats.chi2_contingency([[r.count(k) for k in cats], [c.count(k) for k in cats]], correction=False)
    assert f.test == "chisquare"
    assert (f.statistic, f.score) == pytest.approx((want.statistic, want.pvalue), rel=1e-10)


def test_a_category_the_reference_never_saw():
    r, c = ["a", "b", "c"] * 100, ["a", "b", "c", "new"] * 100
    f = _drift({"c": r}, {"c": c}).feature("c")
    want = stats.chi2_contingency([[100, 100, 100, 0], [100, 100, 100, 100]], correction=False)
    assert (f.test, f.drifted) == ("chisquare", True)
    assert f.score == pytest.approx(want.pvalue, rel=1e-10)


def test_low_cardinality_numeric_uses_chisquare_then_z():
    rng = np.random.default_rng(5)
    r, c = rng.integers(0, 4, 800).astype(float), rng.integers(0, 4, 900).astype(float)
    f = _drift({"x": r}, {"x": c}).feature("x")
    table = [[(r == k).sum() for k in range(4)], [(c == k).sum() for k in range(4)]]
    assert f.test == "chisquare"
    assert f.score == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-10)


def test_binary_z_test_agrees_with_scipy_contingency():
    rng = np.random.default_rng(6)
    r, c = (rng.random(900) < 0.3).tolist(), (rng.random(1500) < 0.36).tolist()
    f = _drift({"b": r}, {"b": c}).feature("b")
    table = [[r.count(False), r.count(True)], [c.count(False), c.count(True)]]
    want = stats.chi2_contingency(table, correction=False)  # z^2 is this chi-squared
    assert f.test == "z"
    assert f.score == pytest.approx(want.pvalue, rel=1e-9)
    assert f.statistic**2 == pytest.approx(want.statistic, rel=1e-9)


def test_one_value_on_both_sides_is_no_drift():
    f = _drift({"b": [True] * 500}, {"b": [True] * 300}).feature("b")
    assert (f.test, f.score, f.drifted) == ("z", 1.0, False)


@pytest.mark.parametrize("kind", ["normal", "lognormal", "zero_inflated", "student_t", "rounded"])
def test_normed_wasserstein_agrees_with_scipy(kind):
    rng = np.random.default_rng(len(kind))
    n = 40_000
    r, c = {
        "normal": lambda: (rng.normal(size=n), rng.normal(0.08, 1.1, n // 2)),
        "lognormal": lambda: (rng.lognormal(size=n), rng.lognormal(0.1, 1.0, n)),
        "zero_inflated": lambda: (np.where(rng.random(n) < 0.4, 0, rng.exponential(3, n)),
                                  np.where(rng.random(n) < 0.3, 0, rng.exponential(3, n))),
        "student_t": lambda: (rng.standard_t(2, n), 1.1 * rng.standard_t(2, n)),
        "rounded": lambda: (rng.normal(size=n).round(1), rng.normal(0.2, 1.0, n).round(1)),
    }[kind]()
    f = _drift({"x": r}, {"x": c}).feature("x")
    assert f.test == "wasserstein"
    want = stats.wasserstein_distance(r, c) / max(np.std(r), 0.001)
    assert f.score == pytest.approx(want, **WASSERSTEIN_TOLERANCE)


def test_current_values_outside_the_reference_range_count_exactly():
    rng = np.random.default_rng(7)
    r, c = rng.uniform(0, 1, 5000), rng.uniform(-0.5, 1.8, 5000)
    f = _drift({"x": r}, {"x": c}).feature("x")
    assert f.score == pytest.approx(stats.wasserstein_distance(r, c) / np.std(r), **WASSERSTEIN_TOLERANCE)


def test_jensenshannon_agrees_with_scipy():
    rng = np.random.default_rng(8)
    cats = [f"k{i}" for i in range(12)]
    r = rng.choice(cats, 20_000).tolist()
    c = rng.choice(cats + ["new"], 5000).tolist()
    f = _drift({"c": r}, {"c": c}).feature("c")
    keys = sorted(set(r) | set(c))
    want = distance.jensenshannon([r.count(k) for k in keys], [c.count(k) for k in keys])
    assert f.test == "jensenshannon" and f.score == pytest.approx(want, rel=1e-12)


def test_jensenshannon_for_few_numeric_values_in_a_large_reference():
    rng = np.random.default_rng(9)
    r, c = rng.integers(0, 3, 5000).astype(float), rng.integers(0, 4, 3000).astype(float)
    f = _drift({"x": r}, {"x": c}).feature("x")
    keys = np.union1d(r, c)
    want = distance.jensenshannon([(r == k).sum() for k in keys], [(c == k).sum() for k in keys])
    assert f.test == "jensenshannon" and f.score == pytest.approx(want, rel=1e-12)


def test_psi_by_category_matches_the_formula():
    r = ["a"] * 500 + ["b"] * 300 + ["c"] * 200
    c = ["a"] * 400 + ["b"] * 300 + ["c"] * 300
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.3, 0.3])
    f = _drift({"c": r}, {"c": c}).feature("c")
    assert f.psi == pytest.approx(float(np.sum((p - q) * np.log(p / q))), rel=1e-12)


def test_psi_on_reference_deciles():
    rng = np.random.default_rng(10)
    r, c = rng.normal(size=50_000), rng.normal(0.5, 1, 50_000)
    f = _drift({"x": r}, {"x": c}).feature("x")
    edges = np.quantile(r, np.linspace(0, 1, 11))[1:-1]
    p = np.bincount(np.searchsorted(edges, r), minlength=10) / len(r)
    q = np.bincount(np.searchsorted(edges, c), minlength=10) / len(c)
    assert f.psi == pytest.approx(float(np.sum((p - q) * np.log(p / q))), rel=0.05)


def _mixed(rng: np.random.Generator, n: int) -> dict:
    return {"a": rng.normal(size=n), "b": rng.exponential(size=n), "d": rng.gamma(2.0, size=n),
            "c": rng.choice(list("wxyz"), n).tolist(), "z": (rng.random(n) < 0.3).tolist()}


def test_same_distribution_drifts_near_the_nominal_rate_and_shifts_are_caught():
    """KS, chi-squared and z at 5%: count false alarms over many seeds (3-sigma binomial band).
    Sizes 400 and 373 keep the KS lattice fine, so its exact test's size is close to 5%."""
    alarms = trials = 0
    for seed in range(150):
        rng = np.random.default_rng(1000 + seed)
        report = _drift(_mixed(rng, 400), _mixed(rng, 373))
        alarms += sum(bool(f.drifted) for f in report.features)
        trials += len(report.features)
    rate = alarms / trials
    band = 3 * np.sqrt(0.05 * 0.95 / trials)
    assert 0.05 - band < rate < 0.05 + band, rate
    rng = np.random.default_rng(1)
    shifted = _drift({"a": rng.normal(size=400), "c": rng.choice(list("wxyz"), 400).tolist()},
                     {"a": rng.normal(0.5, 1, 400), "c": rng.choice(list("wxyz"), 400, p=[0.4, 0.2, 0.2, 0.2]).tolist()})
    assert shifted.feature("a").drifted and shifted.feature("c").drifted


def test_large_references_do_not_alarm_on_same_distribution_and_catch_a_shift():
    alarms = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        ref = {"a": rng.normal(size=5000), "c": rng.choice(list("wxyz"), 5000).tolist()}
        cur = {"a": rng.normal(size=3000), "c": rng.choice(list("wxyz"), 3000).tolist()}
        alarms += _drift(ref, cur).drifted_features
        moved = {"a": rng.normal(0.3, 1, 3000), "c": rng.choice(list("wxyz"), 3000, p=[0.6, 0.2, 0.1, 0.1]).tolist()}
        assert _drift(ref, moved).drifted_features == 2
    assert alarms == 0


def test_dataset_verdict_uses_the_drift_share():
    rng = np.random.default_rng(11)
    ref = {k: rng.normal(size=2000) for k in "abcd"}
    cur = {k: rng.normal(0.8 if k in "ab" else 0.0, 1, 2000) for k in "abcd"}
    half = _drift(ref, cur)
    assert (half.drifted_features, half.tested_features, half.share_drifted, half.dataset_drift) == (2, 4, 0.5, True)
    assert _drift(ref, cur, drift_share=0.75).dataset_drift is False


def test_prediction_is_reported_apart_from_features():
    rng = np.random.default_rng(12)
    ref = compute_reference({"a": rng.normal(size=3000), "score": rng.random(3000)}, prediction="score")
    report = detect_drift(ref, {"a": rng.normal(size=3000), "score": rng.random(3000) ** 3})
    assert [f.column for f in report.features] == ["a"]
    assert report.prediction is not None and report.prediction.column == "score" and report.prediction.drifted
    assert report.tested_features == 1 and report.dataset_drift is False


def test_schema_violations_are_reported_not_raised():
    rng = np.random.default_rng(13)
    ref = {"a": rng.normal(size=500), "b": rng.normal(size=500), "c": ["x", "y"] * 250}
    report = _drift(ref, {"a": [str(v) for v in rng.normal(size=300)], "c": [1.0, 2.0] * 150})
    assert {f.column: f.status for f in report.features} == {"a": "schema_violation", "b": "schema_violation",
                                                            "c": "schema_violation"}
    assert "missing from the current data" in report.feature("b").message
    assert "changed type: double in the reference, string now" in report.feature("a").message
    assert report.tested_features == 0 and report.dataset_drift is False
    assert len(report.schema_violations) == 3
    widened = _drift({"n": np.arange(600)}, {"n": np.arange(600, dtype=float)}).feature("n")
    assert widened.status == "ok"  # int64 -> double is the same kind of column
    codes = pa.array([1, 2, 3] * 200).dictionary_encode()  # a pandas categorical of numbers
    same = _drift({"k": codes}, {"k": pa.array([1, 2, 3] * 50).dictionary_encode()}).feature("k")
    assert (same.status, same.test, same.drifted) == ("ok", "chisquare", False)


def test_empty_window_and_empty_column_say_no_data():
    ref = compute_reference({"a": np.arange(100.0), "b": np.arange(100.0)})
    empty = detect_drift(ref, pa.table({"a": pa.array([], pa.float64()), "b": pa.array([], pa.float64())}))
    assert (empty.status, empty.dataset_drift, empty.features) == ("no_data", None, ())
    nulls = detect_drift(ref, {"a": pa.array([None] * 10, pa.float64()), "b": np.arange(10.0)})
    a = nulls.feature("a")
    assert (a.status, a.drifted, a.current_missing_share) == ("no_data", None, 1.0)
    assert "no values in the current data" in a.message
    assert nulls.tested_features == 1


def test_current_from_parquet_row_groups_and_csv(tmp_path):
    rng = np.random.default_rng(14)
    ref_t = pa.table({"x": rng.normal(size=20_000), "c": rng.choice(list("abc"), 20_000).tolist()})
    cur_t = pa.table({"x": rng.normal(0.2, 1, 30_000), "c": rng.choice(list("abc"), 30_000).tolist()})
    pq.write_table(ref_t, tmp_path / "ref.parquet", row_group_size=3000)
    pq.write_table(cur_t, tmp_path / "cur.parquet", row_group_size=4000)
    cur_t.to_pandas().to_csv(tmp_path / "cur.csv", index=False)
    want = detect_drift(ref_t, cur_t).to_json()
    for reference in (ref_t, tmp_path / "ref.parquet"):
        for current in (tmp_path / "cur.parquet", tmp_path / "cur.csv", [tmp_path / "cur.parquet"]):
            got = detect_drift(reference, current).to_json()
            for g, w in zip(got["features"], want["features"], strict=True):
                assert g["score"] == pytest.approx(w["score"], rel=1e-9), (reference, current)


def test_report_json_round_trip():
    rng = np.random.default_rng(15)
    ref = compute_reference({"a": rng.normal(size=2000), "b": rng.normal(size=2000), "s": rng.random(2000)},
                            prediction="s")
    report = detect_drift(ref, {"a": rng.normal(1, 1, 500), "b": rng.normal(size=500), "s": rng.random(500)})
    text = json.dumps(report.to_json(), allow_nan=False)
    assert DriftReport.from_json(json.loads(text)) == report
    inf = _drift({"x": np.arange(500.0)}, {"x": np.arange(400.0) + 1e308})
    assert DriftReport.from_json(json.loads(json.dumps(inf.to_json(), allow_nan=False))) == inf


def test_bad_parameters():
    ref = compute_reference({"a": np.arange(50.0)})
    with pytest.raises(InvalidParameter, match="drift_share"):
        detect_drift(ref, {"a": np.arange(5.0)}, drift_share=0)
    with pytest.raises(InvalidParameter, match="'z' has no reference statistics"):
        detect_drift(ref, {"a": np.arange(5.0)}, columns=["z"])


@pytest.mark.parametrize(("n_ref", "make", "test"), [
    (1000, lambda rng, n: rng.normal(size=n), "ks"),
    (1000, lambda rng, n: rng.integers(0, 6, n).astype(float), "ks"),         # 6 values: numeric
    (1000, lambda rng, n: rng.integers(0, 5, n).astype(float), "chisquare"),  # 5 values: categorical
    (1000, lambda rng, n: rng.choice(list("abc"), n).tolist(), "chisquare"),
    (1000, lambda rng, n: (rng.random(n) < 0.5).tolist(), "z"),
    (1001, lambda rng, n: rng.normal(size=n), "wasserstein"),
    (1001, lambda rng, n: rng.integers(0, 5, n).astype(float), "jensenshannon"),
    (1001, lambda rng, n: rng.choice(list("abc"), n).tolist(), "jensenshannon"),
    (1001, lambda rng, n: (rng.random(n) < 0.5).tolist(), "jensenshannon"),
])
def test_the_test_is_chosen_as_evidently_chooses(n_ref, make, test):
    """Evidently 0.7.23 chose the same on the same files (docs/monitoring.md)."""
    rng = np.random.default_rng(16)
    assert _drift({"x": make(rng, n_ref)}, {"x": make(rng, 700)}).feature("x").test == test


def test_reference_statistics_do_not_depend_on_thread_order():
    rng = np.random.default_rng(17)
    data = {f"x{i}": rng.normal(size=150_000) for i in range(4)}
    first = compute_reference(data).to_json()
    assert compute_reference(data).to_json() == first


def test_categories_beyond_top_k_are_compared_as_other():
    rng = np.random.default_rng(18)
    cats = [f"id{i:03d}" for i in range(150)]
    p = np.linspace(2.0, 1.0, 150)
    r = rng.choice(cats, 30_000, p=p / p.sum()).tolist()
    c = rng.choice(cats + ["unseen"], 8000).tolist()
    ref = compute_reference({"c": r}, top_k=40, multivariate=False)
    f = detect_drift(ReferenceStats.from_json(json.loads(json.dumps(ref.to_json()))), {"c": c}).feature("c")
    top = [k for k, _ in ref.columns["c"].categories]
    assert len(top) == 40 and ref.columns["c"].other == 30_000 - sum(r.count(k) for k in top)
    p_ref = [r.count(k) for k in top] + [30_000 - sum(r.count(k) for k in top)]
    p_cur = [c.count(k) for k in top] + [8000 - sum(c.count(k) for k in top)]
    assert f.test == "jensenshannon" and f.score == pytest.approx(distance.jensenshannon(p_ref, p_cur), rel=1e-12)

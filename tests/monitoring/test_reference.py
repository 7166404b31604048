"""Reference statistics: the summaries agree with numpy on the raw data, every input kind
reads the same, and the record is JSON-able and small."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from stead.errors import InvalidParameter, NotFound
from stead.monitoring.columns import bin_index, open_columns
from stead.monitoring.reference import (
    QUANTILES,
    SAMPLE,
    CategoricalColumn,
    NumericColumn,
    ReferenceStats,
    compute_reference,
)


def _table(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, n)
    x[rng.random(n) < 0.05] = np.nan
    return pa.table({
        "x": x,
        "k": pa.array(rng.integers(0, 4, n)),
        "city": pa.array(rng.choice(["oslo", "rome", "lima"], n, p=[0.5, 0.3, 0.2]).tolist()),
        "flag": pa.array(rng.random(n) < 0.3),
        "when": pa.array(np.arange(n).astype("datetime64[s]")),
    })


def test_import_is_light():
    code = ("import sys, stead.monitoring; print(','.join(m for m in ('numpy', 'pyarrow', 'scipy', 'pandas') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_numeric_summaries_agree_with_numpy():
    t = _table(5000)
    ref = compute_reference(t, multivariate=False)
    col = ref.columns["x"]
    assert isinstance(col, NumericColumn)
    x = t.column("x").to_numpy()
    v = x[np.isfinite(x)]
    assert col.rows == 5000 and col.missing == int(np.isnan(x).sum())
    assert col.min == v.min() and col.max == v.max()
    assert col.mean == pytest.approx(v.mean(), rel=1e-12) and col.std == pytest.approx(v.std(), rel=1e-12)
    assert [col.quantiles[str(q)] for q in QUANTILES] == pytest.approx(np.quantile(v, QUANTILES), rel=1e-12)
    assert col.edges[0] == v.min() and col.edges[-1] == v.max()
    expected = np.bincount(np.searchsorted(col.edges, v, side="right"), minlength=len(col.edges) + 1)
    assert list(col.counts) == expected.tolist() and sum(col.counts) == len(v)
    assert col.values is None and col.distinct == 1000  # capped: at least 1,000 distinct values
    assert ref.skipped == ("when",)


def test_missing_counts_null_nan_and_infinity():
    ref = compute_reference({"x": pa.array([1.0, None, np.nan, np.inf, 2.0, -np.inf, 3.0])}, multivariate=False)
    col = ref.columns["x"]
    assert (col.rows, col.missing, col.min, col.max) == (7, 4, 1.0, 3.0)


def test_small_reference_keeps_its_values():
    rng = np.random.default_rng(1)
    x = rng.normal(size=800)
    col = compute_reference({"x": x}, multivariate=False).columns["x"]
    assert col.values == tuple(np.sort(x))
    big = compute_reference({"x": rng.normal(size=1001)}, multivariate=False).columns["x"]
    assert big.values is None


def test_low_cardinality_counts_are_exact_beyond_the_sample():
    rng = np.random.default_rng(2)
    n = SAMPLE + 50_000
    x = rng.choice([1.0, 2.0, 5.0, 7.5], n, p=[0.4, 0.3, 0.2, 0.1])
    x[-3:] = 99.0  # a value the sample almost surely missed
    col = compute_reference({"x": x}, multivariate=False).columns["x"]
    vals, counts = np.unique(x, return_counts=True)
    assert col.distinct == 5
    assert col.value_counts == tuple(zip(vals.tolist(), counts.tolist()))
    assert list(col.edges) == vals.tolist()  # one bin per value: distances on it are exact


def test_categorical_counts_top_k_and_other():
    rng = np.random.default_rng(3)
    labels = rng.choice([f"c{i}" for i in range(30)], 20_000).tolist()
    labels[:7] = [None] * 7
    col = compute_reference({"c": pa.array(labels)}, top_k=10, multivariate=False).columns["c"]
    assert isinstance(col, CategoricalColumn)
    present = [v for v in labels if v is not None]
    values, counts = np.unique(present, return_counts=True)
    top = sorted(zip(values.tolist(), counts.tolist()), key=lambda p: (-p[1], p[0]))[:10]
    assert list(col.categories) == top
    assert col.other == len(present) - sum(c for _, c in top)
    assert (col.missing, col.distinct) == (7, 30)


def test_small_categorical_reference_keeps_every_category():
    labels = [f"c{i % 300}" for i in range(900)]
    col = compute_reference({"c": labels}, top_k=10, multivariate=False).columns["c"]
    assert len(col.categories) == 300 and col.other == 0


def test_dictionary_and_bool_columns_are_categorical():
    t = pa.table({"d": pa.array(["a", "b", "a", None]).dictionary_encode(), "b": pa.array([True, False, True, True])})
    ref = compute_reference(t, multivariate=False)
    assert dict(ref.columns["d"].categories) == {"a": 2, "b": 1}
    assert dict(ref.columns["b"].categories) == {True: 3, False: 1}


def test_inputs_read_alike(tmp_path):
    pytest.importorskip("pandas")
    t = _table(3000).drop_columns(["when"])
    pq.write_table(t, tmp_path / "t.parquet", row_group_size=700)
    pq.write_table(t.slice(0, 1000), tmp_path / "a.parquet")
    pq.write_table(t.slice(1000), tmp_path / "b.parquet")
    pcsv.write_csv(t, tmp_path / "t.csv")
    want = compute_reference(t, multivariate=False).to_json()
    sources = [tmp_path / "t.parquet", str(tmp_path / "t.parquet"), [tmp_path / "a.parquet", tmp_path / "b.parquet"],
               t.to_pandas(), {name: t.column(name).to_numpy(zero_copy_only=False) for name in t.column_names}]
    for source in sources:
        got = compute_reference(source, multivariate=False).to_json()
        _same(got, want)
    _same(compute_reference(tmp_path / "t.csv", multivariate=False).to_json(), want)


def _same(got: dict, want: dict) -> None:
    """Counts, edges and categories equal; sums equal up to the order of addition."""
    for g, w in zip(got["columns"], want["columns"], strict=True):
        for key, value in w.items():
            if key in ("mean", "std", "offsets"):
                assert g[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
            elif key != "dtype":
                assert g[key] == value, key


def test_json_round_trip_is_compact():
    t = _table(200_000).drop_columns(["when"])
    ref = compute_reference(t, prediction="x")
    text = json.dumps(ref.to_json())
    assert len(text) < 40_000  # kilobytes, for any number of rows
    back = ReferenceStats.from_json(json.loads(text))
    assert back == ref
    assert back.prediction == "x" and back.features == ["k", "city", "flag"]


def test_bad_input_says_what_to_do(tmp_path):
    with pytest.raises(InvalidParameter, match="'nope' is not in the reference data"):
        compute_reference({"x": [1.0, 2.0]}, columns=["nope"])
    with pytest.raises(InvalidParameter, match="prediction"):
        compute_reference({"x": [1.0, 2.0]}, prediction="prediction")
    with pytest.raises(NotFound):
        compute_reference(tmp_path / "missing.parquet")
    with pytest.raises(InvalidParameter, match="cannot read int"):
        open_columns(42)
    with pytest.raises(InvalidParameter, match="newer"):
        ReferenceStats.from_json({"version": 99, "rows": 0, "columns": []})


@pytest.mark.parametrize("seed", range(5))
def test_bin_index_equals_searchsorted(seed):
    rng = np.random.default_rng(seed)
    data = [rng.normal(size=50_000), rng.standard_t(1, size=50_000), rng.integers(0, 5, 50_000).astype(float)]
    for x in data:
        edges = np.unique(np.quantile(x[:5000], np.linspace(0, 1, 41)))
        probe = np.concatenate([x, edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf), [-1e300, 1e300]])
        assert np.array_equal(bin_index(edges)(probe), np.searchsorted(edges, probe, side="right"))

"""Data drift: per feature and for the prediction, the test Evidently would choose, computed
from reference statistics and one pass over each current column.

The choice (Evidently's defaults): with at most 1,000 reference values, KS for numeric
columns with more than 5 distinct values, chi-squared for more than 2 categories (the
two-sample homogeneity test; see ``stattests.chisquare`` for why not Evidently's), a
two-proportion z-test for two (p < 0.05 is drift); with more, the Wasserstein distance
normed by the reference's standard deviation for numeric columns and the Jensen-Shannon
distance otherwise (>= 0.1 is drift). PSI is reported beside every test. The dataset
drifts when the share of drifted features reaches ``drift_share``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stead.errors import InvalidParameter
from stead.monitoring.columns import (
    Columns,
    column_kind,
    open_columns,
    take,
    type_family,
)
from stead.monitoring.current import (
    CategoricalSummary,
    NumericSummary,
    summarize_categorical,
    summarize_numeric,
)
from stead.monitoring.multivariate import MultivariateDrift, multivariate_drift
from stead.monitoring.reference import (
    SMALL_REFERENCE,
    CategoricalColumn,
    NumericColumn,
    ReferenceStats,
    compute_reference,
    sample_rows,
)
from stead.monitoring.stattests import (
    chisquare,
    jensenshannon,
    ks_pvalue,
    ks_statistic,
    psi,
    wasserstein,
    z_test,
)

__all__ = ["FeatureDrift", "DriftReport", "detect_drift", "P_VALUE", "DISTANCE"]

P_VALUE = 0.05   # ks, chisquare, z: drift when p < this
DISTANCE = 0.1   # wasserstein (normed), jensenshannon: drift when distance >= this
PCA_ROWS = 200_000  # current rows drawn for the multivariate signal
_TESTS_WITH_P = ("ks", "chisquare", "z")


@dataclass(frozen=True)
class FeatureDrift:
    """One column's verdict. ``score`` is the p-value (ks, chisquare, z) or the distance
    (wasserstein, jensenshannon) compared with ``threshold``; ``statistic`` is the test's own
    statistic (KS D, chi-squared, z; the raw Wasserstein distance). ``status`` is ``ok``,
    ``no_data`` or ``schema_violation`` (then ``message`` says what is wrong)."""

    column: str
    status: str
    kind: str | None = None
    test: str | None = None
    score: float | None = None
    statistic: float | None = None
    threshold: float | None = None
    drifted: bool | None = None
    psi: float | None = None
    reference_rows: int = 0
    current_rows: int = 0
    reference_missing_share: float | None = None
    current_missing_share: float | None = None
    reference_dtype: str | None = None
    current_dtype: str | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FeatureDrift:
        fields = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k in ("score", "statistic", "psi"):
            if isinstance(fields.get(k), str):  # "inf" / "-inf": JSON has no infinity
                fields[k] = float(fields[k])
        return cls(**fields)


@dataclass(frozen=True)
class DriftReport:
    """The dataset's verdict and every column's. ``status`` is ``no_data`` for an empty window
    (then ``dataset_drift`` is None: nothing was measured)."""

    status: str
    reference_rows: int
    current_rows: int
    drift_share: float
    drifted_features: int
    tested_features: int
    dataset_drift: bool | None
    features: tuple[FeatureDrift, ...]
    prediction: FeatureDrift | None = None
    multivariate: MultivariateDrift | None = None

    @property
    def share_drifted(self) -> float | None:
        return self.drifted_features / self.tested_features if self.tested_features else None

    @property
    def schema_violations(self) -> list[FeatureDrift]:
        every = [*self.features, *([self.prediction] if self.prediction else [])]
        return [f for f in every if f.status == "schema_violation"]

    def feature(self, name: str) -> FeatureDrift:
        for f in (*self.features, *([self.prediction] if self.prediction else [])):
            if f.column == name:
                return f
        raise InvalidParameter(f"the drift report has no column {name!r}")

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reference_rows": self.reference_rows, "current_rows": self.current_rows,
                "drift_share": self.drift_share, "drifted_features": self.drifted_features,
                "tested_features": self.tested_features, "share_drifted": _plain(self.share_drifted),
                "dataset_drift": self.dataset_drift, "features": [f.to_json() for f in self.features],
                "prediction": None if self.prediction is None else self.prediction.to_json(),
                "multivariate": None if self.multivariate is None else self.multivariate.to_json()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DriftReport:
        mv, pred = d.get("multivariate"), d.get("prediction")
        return cls(status=d["status"], reference_rows=int(d["reference_rows"]), current_rows=int(d["current_rows"]),
                   drift_share=float(d["drift_share"]), drifted_features=int(d["drifted_features"]),
                   tested_features=int(d["tested_features"]), dataset_drift=d["dataset_drift"],
                   features=tuple(FeatureDrift.from_json(f) for f in d["features"]),
                   prediction=None if pred is None else FeatureDrift.from_json(pred),
                   multivariate=None if mv is None else MultivariateDrift.from_json(mv))


def detect_drift(reference: Any, current: Any, *, drift_share: float = 0.5, columns: list[str] | None = None,
                 prediction: str | None = None, multivariate: bool = True, seed: int = 0) -> DriftReport:
    """Compare ``current`` (a pyarrow Table, Parquet/CSV path or list of Parquet paths,
    DataFrame, dict of arrays) with ``reference`` (``ReferenceStats``, or data of the same kinds:
    its statistics are computed first). ``columns`` limits the check to some columns."""
    if not 0 < drift_share <= 1:
        raise InvalidParameter(f"drift_share must be in (0, 1], got {drift_share}")
    ref = reference if isinstance(reference, ReferenceStats) else compute_reference(
        reference, prediction=prediction, multivariate=multivariate)
    cur = open_columns(current)
    names = list(ref.columns) if columns is None else list(columns)
    for name in names:
        if name not in ref.columns:
            raise InvalidParameter(f"column {name!r} has no reference statistics (the reference has: "
                                   f"{', '.join(list(ref.columns)[:20])})")
    if cur.num_rows == 0:
        return DriftReport(status="no_data", reference_rows=ref.rows, current_rows=0, drift_share=drift_share,
                           drifted_features=0, tested_features=0, dataset_drift=None, features=())
    model = ref.multivariate if multivariate else None
    if model is not None and not all(c in cur.names and type_family(cur.arrow_type(c)) == "numeric"
                                     for c in model.columns):
        model = None  # a model column is missing or changed type: reported per column already
    at = sample_rows(cur.num_rows, PCA_ROWS, np.random.default_rng(seed)) if model else np.zeros(0, np.int64)
    results = {name: _violation(ref.columns[name], cur) for name in names}
    wanted = () if model is None else model.columns

    def one(name: str, chunks: list[Any]) -> tuple[FeatureDrift, np.ndarray | None]:
        drift = column_drift(ref.columns[name], str(cur.arrow_type(name)), chunks)
        return drift, take(chunks, at) if name in wanted else None

    todo = [n for n, r in results.items() if r is None]
    sampled: dict[str, np.ndarray] = {}
    for name, (drift, rows) in zip(todo, cur.map(one, todo)):
        results[name] = drift
        if rows is not None:
            sampled[name] = rows
    if model is not None:
        for name in model.columns:
            if name not in sampled:
                sampled[name] = take(cur.column(name), at)
    done = {n: r for n, r in results.items() if r is not None}
    features = tuple(r for n, r in done.items() if n != ref.prediction)
    tested = [f for f in features if f.drifted is not None]
    drifted = sum(1 for f in tested if f.drifted)
    mv = multivariate_drift(model, np.column_stack([sampled[c] for c in model.columns])) if model else None
    return DriftReport(status="ok", reference_rows=ref.rows, current_rows=cur.num_rows, drift_share=drift_share,
                       drifted_features=drifted, tested_features=len(tested),
                       dataset_drift=bool(tested) and drifted / len(tested) >= drift_share, features=features,
                       prediction=done.get(ref.prediction) if ref.prediction else None, multivariate=mv)


def _violation(ref: NumericColumn | CategoricalColumn, cur: Columns) -> FeatureDrift | None:
    """A schema violation for a column that is missing or changed type, else None."""
    base = _base(ref)
    if ref.name not in cur.names:
        return FeatureDrift(status="schema_violation", message=f"column {ref.name!r} is missing from the current "
                            "data", **base)
    dtype = cur.arrow_type(ref.name)
    if column_kind(dtype) is None or type_family(dtype) != _family(ref):
        return FeatureDrift(status="schema_violation", current_dtype=str(dtype), message=f"column {ref.name!r} "
                            f"changed type: {ref.dtype} in the reference, {dtype} now", **base)
    return None


def _base(ref: NumericColumn | CategoricalColumn) -> dict[str, Any]:
    return {"column": ref.name, "kind": ref.kind, "reference_rows": ref.rows, "reference_dtype": ref.dtype,
            "reference_missing_share": ref.missing / ref.rows if ref.rows else None}


def column_drift(ref: NumericColumn | CategoricalColumn, dtype: str, chunks: list[Any]) -> FeatureDrift:
    """The test Evidently would choose for this column, run on its statistics and the current
    column's ``chunks`` (Arrow arrays of type ``dtype``)."""
    base = {**_base(ref), "current_dtype": dtype}
    if isinstance(ref, NumericColumn):
        summary: NumericSummary | CategoricalSummary = summarize_numeric(iter(chunks), ref)
    else:
        summary = summarize_categorical(iter(chunks))
    base.update(current_rows=summary.rows,
                current_missing_share=summary.missing / summary.rows if summary.rows else None)
    if ref.count == 0 or summary.count == 0:
        side = "reference" if ref.count == 0 else "current data"
        return FeatureDrift(status="no_data", message=f"column {ref.name!r} has no values in the {side}", **base)
    if isinstance(ref, NumericColumn):
        assert isinstance(summary, NumericSummary)
        test, score, stat, p = _numeric(ref, summary)
    else:
        assert isinstance(summary, CategoricalSummary)
        test, score, stat, p = _categorical(ref, summary)
    threshold = P_VALUE if test in _TESTS_WITH_P else DISTANCE
    drifted = score < threshold if test in _TESTS_WITH_P else score >= threshold
    return FeatureDrift(status="ok", test=test, score=score, statistic=stat, threshold=threshold,
                        drifted=bool(drifted), psi=p, **base)


def _family(ref: NumericColumn | CategoricalColumn) -> str:
    """``type_family`` of the reference's type, from its stored name (``bool``,
    ``dictionary<values=bool, ...>`` are boolean; other categorical types are strings)."""
    if ref.kind == "numeric":
        return "numeric"
    return "boolean" if ref.dtype == "bool" or ref.dtype.startswith("dictionary<values=bool") else "string"


def _numeric(ref: NumericColumn, s: NumericSummary) -> tuple[str, float, float, float]:
    n_values = ref.distinct if ref.distinct > 5 else ref.distinct + len(s.new_values) + (6 if s.new_overflow else 0)
    if ref.value_counts is not None and ref.distinct <= 20 and not s.new_overflow:
        keys, rc, cc = _value_table(ref, s)
        p = psi(rc, cc)
    else:
        rc, cc, keys = np.zeros(0), np.zeros(0), []
        p = psi(*_deciles(np.asarray(ref.counts), s.counts))
    if n_values > 5:
        if ref.count <= SMALL_REFERENCE:
            return ("ks", *_ks(ref, s), p)
        w = wasserstein(np.asarray(ref.edges), np.asarray(ref.counts), np.asarray(ref.offsets), s.counts, s.offsets)
        norm = max(float(ref.std or 0.0), 0.001)
        return "wasserstein", w / norm, w, p
    return (*_few_values(ref.count, keys, rc, cc), p)


def _ks(ref: NumericColumn, s: NumericSummary) -> tuple[float, float]:
    if s.raw is not None:  # scipy's exact distribution applies at these sizes: use scipy itself
        from scipy.stats import ks_2samp

        r = ks_2samp(np.asarray(ref.values), s.raw)
        return float(r.pvalue), float(r.statistic)
    assert s.le is not None and s.lt is not None
    _, c = np.unique(np.asarray(ref.values), return_counts=True)
    d = ks_statistic(np.cumsum(c) / ref.count, s.le, s.lt, s.count)
    return ks_pvalue(d, ref.count, s.count), d


def _value_table(ref: NumericColumn, s: NumericSummary) -> tuple[list[Any], np.ndarray, np.ndarray]:
    assert ref.value_counts is not None and s.at_values is not None
    vals = [v for v, _ in ref.value_counts] + sorted(s.new_values)
    rc = np.array([c for _, c in ref.value_counts] + [0] * len(s.new_values), dtype=np.float64)
    cc = np.concatenate([s.at_values, [s.new_values[v] for v in sorted(s.new_values)]]).astype(np.float64)
    order = np.argsort(np.asarray(vals, dtype=np.float64), kind="stable")
    return [vals[i] for i in order], rc[order], cc[order]


def _categorical(ref: CategoricalColumn, s: CategoricalSummary) -> tuple[str, float, float, float]:
    kept = {v: c for v, c in ref.categories}
    if ref.other:  # a large reference keeps its top categories; the rest of both sides is "other"
        import pyarrow as pa
        import pyarrow.compute as pc

        keys: list[Any] = list(kept)
        at = pc.index_in(pa.array(keys).cast(s.values.type), value_set=s.values).to_numpy(zero_copy_only=False)
        found = np.where(np.isnan(at.astype(np.float64)), 0, s.counts[np.nan_to_num(at).astype(np.int64)])
        rc = np.array([kept[k] for k in keys] + [ref.other], dtype=np.float64)
        cc = np.append(found, s.count - found.sum()).astype(np.float64)
        keys.append(None)
    else:
        current = dict(zip(s.values.to_pylist(), s.counts.tolist()))
        keys = sorted(set(kept) | set(current), key=lambda k: (str(type(k)), k))
        rc = np.array([kept.get(k, 0) for k in keys], dtype=np.float64)
        cc = np.array([current.get(k, 0) for k in keys], dtype=np.float64)
    p = psi(rc, cc)
    if ref.count > SMALL_REFERENCE:
        return "jensenshannon", jensenshannon(rc, cc), jensenshannon(rc, cc), p
    return (*_few_values(ref.count, keys, rc, cc), p)


def _few_values(n_ref: int, keys: list[Any], rc: np.ndarray, cc: np.ndarray) -> tuple[str, float, float]:
    """chi-squared (> 2 values) or z (2 values) for a small reference, Jensen-Shannon otherwise;
    ``keys`` are sorted, as Evidently sorts them."""
    if n_ref > SMALL_REFERENCE:
        d = jensenshannon(rc, cc)
        return "jensenshannon", d, d
    if len(keys) > 2:
        stat, pv = chisquare(rc, cc)
        return "chisquare", pv, stat
    if len(keys) == 1:
        return "z", 1.0, 0.0
    z, pv = z_test(int(rc[0]), int(rc.sum()), int(cc[0]), int(cc.sum()))
    return "z", pv, z


def _deciles(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge the reference's fine buckets into ten of about equal reference share (PSI's bins)."""
    total = max(int(ref_counts.sum()), 1)
    middle = (np.cumsum(ref_counts) - ref_counts / 2) / total
    group = np.clip((middle * 10).astype(np.int64), 0, 9)
    group[0], group[-1] = 0, 9
    return np.bincount(group, weights=ref_counts, minlength=10), np.bincount(group, weights=cur_counts, minlength=10)


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if np.isfinite(f) else None if np.isnan(f) else ("inf" if f > 0 else "-inf")
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v

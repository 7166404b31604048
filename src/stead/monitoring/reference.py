"""Reference statistics: what the training data (and the model's outputs on it) looked like,
computed once and kept small, so that drift checks never read the training set again.

Per numeric column: a histogram on quantile-based bin edges (counts and, per bin, the sum of
each value's offset from the bin's left edge, which makes Wasserstein distances exact up to
CDF crossings inside a bin), quantiles, min/max, mean/std, missing share, a capped distinct
count, the value counts of low-cardinality columns, and all values when the column has at
most 1,000 of them (Evidently then runs exact tests: KS, chi-squared, z). Per categorical
column: the top categories' counts plus "other". A prediction column is just a column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stead.errors import InvalidParameter
from stead.monitoring.columns import (
    bin_index,
    category_counts,
    column_kind,
    finite_slices,
    open_columns,
    take,
)
from stead.monitoring.multivariate import PCAModel, fit_pca

__all__ = ["NumericColumn", "CategoricalColumn", "ReferenceStats", "compute_reference", "Histogram",
           "histogram", "sample_rows", "SMALL_REFERENCE", "QUANTILES"]

SMALL_REFERENCE = 1000       # at most this many values: keep them, run exact tests
DISTINCT_CAP = 1000          # distinct values are counted up to this (the cap means "at least")
VALUE_COUNTS_CAP = 20        # at most this many distinct values: keep each value's count
SAMPLE = 100_000             # values drawn to place bin edges and quantiles
PCA_ROWS = 100_000           # rows drawn to fit the multivariate model
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass(frozen=True)
class NumericColumn:
    """A numeric column's reference statistics. ``counts``/``offsets`` have ``len(edges) + 1``
    buckets: below ``edges[0]``, one per bin ``[edges[i-1], edges[i])``, and at or above
    ``edges[-1]`` (the reference's maximum lands there)."""

    name: str
    dtype: str
    rows: int
    missing: int
    distinct: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] = field(default_factory=dict)
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    offsets: tuple[float, ...] = ()
    values: tuple[float, ...] | None = None
    value_counts: tuple[tuple[float, int], ...] | None = None
    kind: str = "numeric"

    @property
    def count(self) -> int:
        """Values present (not null, NaN or infinite)."""
        return self.rows - self.missing

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("kind", "name", "dtype", "rows", "missing", "distinct", "min",
                                              "max", "mean", "std", "quantiles")}
        out.update(edges=list(self.edges), counts=list(self.counts), offsets=list(self.offsets))
        if self.values is not None:
            out["values"] = list(self.values)
        if self.value_counts is not None:
            out["value_counts"] = [list(p) for p in self.value_counts]
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> NumericColumn:
        vc = d.get("value_counts")
        return cls(name=d["name"], dtype=d["dtype"], rows=int(d["rows"]), missing=int(d["missing"]),
                   distinct=int(d["distinct"]), min=d.get("min"), max=d.get("max"), mean=d.get("mean"),
                   std=d.get("std"), quantiles=dict(d.get("quantiles", {})), edges=tuple(d.get("edges", ())),
                   counts=tuple(int(c) for c in d.get("counts", ())), offsets=tuple(d.get("offsets", ())),
                   values=None if d.get("values") is None else tuple(d["values"]),
                   value_counts=None if vc is None else tuple((float(v), int(c)) for v, c in vc))


@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical column's reference statistics: the ``top_k`` most frequent categories'
    counts (all of them for a small reference) and ``other``, the count of the rest."""

    name: str
    dtype: str
    rows: int
    missing: int
    distinct: int
    categories: tuple[tuple[Any, int], ...] = ()
    other: int = 0
    kind: str = "categorical"

    @property
    def count(self) -> int:
        return self.rows - self.missing

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "dtype": self.dtype, "rows": self.rows,
                "missing": self.missing, "distinct": self.distinct,
                "categories": [list(p) for p in self.categories], "other": self.other}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CategoricalColumn:
        return cls(name=d["name"], dtype=d["dtype"], rows=int(d["rows"]), missing=int(d["missing"]),
                   distinct=int(d["distinct"]), categories=tuple((v, int(c)) for v, c in d["categories"]),
                   other=int(d.get("other", 0)))


ColumnStats = NumericColumn | CategoricalColumn


@dataclass(frozen=True)
class ReferenceStats:
    """Everything a drift check needs from the reference data, as a JSON-able record."""

    rows: int
    columns: dict[str, ColumnStats]
    prediction: str | None = None
    skipped: tuple[str, ...] = ()
    multivariate: PCAModel | None = None
    version: int = 1

    @property
    def features(self) -> list[str]:
        return [c for c in self.columns if c != self.prediction]

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "rows": self.rows, "prediction": self.prediction,
                "skipped": list(self.skipped), "columns": [c.to_json() for c in self.columns.values()],
                "multivariate": None if self.multivariate is None else self.multivariate.to_json()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReferenceStats:
        if int(d.get("version", 1)) != 1:
            raise InvalidParameter(f"reference statistics version {d.get('version')} is newer than this stead; "
                                   "upgrade stead or recompute the reference")
        cols: dict[str, ColumnStats] = {}
        for c in d["columns"]:
            cols[c["name"]] = NumericColumn.from_json(c) if c["kind"] == "numeric" else CategoricalColumn.from_json(c)
        mv = d.get("multivariate")
        return cls(rows=int(d["rows"]), columns=cols, prediction=d.get("prediction"),
                   skipped=tuple(d.get("skipped", ())), multivariate=None if mv is None else PCAModel.from_json(mv))


def compute_reference(data: Any, *, prediction: str | None = None, columns: list[str] | None = None,
                      bins: int = 100, top_k: int = 100, multivariate: bool = True,
                      seed: int = 0) -> ReferenceStats:
    """Reference statistics of ``data`` (a pyarrow Table, Parquet/CSV path, DataFrame or dict of
    arrays), reading one column at a time. ``prediction`` names the model-output column."""
    if bins < 2 or top_k < 2:
        raise InvalidParameter(f"bins ({bins}) and top_k ({top_k}) must be at least 2")
    src = open_columns(data)
    names = src.names if columns is None else list(columns)
    if prediction is not None and prediction not in names:
        names.append(prediction)
    for name in names:
        if name not in src.names:
            raise InvalidParameter(f"column {name!r} is not in the reference data (it has: "
                                   f"{', '.join(src.names[:20])}); check the column names")
    rng = np.random.default_rng(seed)
    kinds = {name: column_kind(src.arrow_type(name)) for name in names}
    numeric = [n for n in names if kinds[n] == "numeric" and n != prediction]
    fit = multivariate and len(numeric) >= 2 and src.num_rows >= 20
    at = sample_rows(src.num_rows, PCA_ROWS, rng) if fit else np.zeros(0, dtype=np.int64)
    numeric = numeric if fit else []
    measured = [n for n in names if kinds[n] is not None]

    def one(name: str, chunks: list[Any]) -> tuple[ColumnStats, np.ndarray | None]:
        dtype = str(src.arrow_type(name))
        if kinds[name] != "numeric":
            return categorical_stats(name, dtype, chunks, top_k=top_k), None
        own = np.random.default_rng([seed, names.index(name)])  # the same draws in any thread order
        return numeric_stats(name, dtype, chunks, bins=bins, rng=own), take(chunks, at) if name in numeric else None

    done = dict(zip(measured, src.map(one, measured)))
    stats: dict[str, ColumnStats] = {name: s for name, (s, _) in done.items()}
    sampled = {name: rows for name, (_, rows) in done.items() if rows is not None}
    model = fit_pca(np.column_stack([sampled[n] for n in numeric]), numeric) if fit else None
    return ReferenceStats(rows=src.num_rows, columns=stats, prediction=prediction,
                          skipped=tuple(n for n in names if kinds[n] is None), multivariate=model)


def sample_rows(n: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of ``limit`` rows, one drawn at random from each of ``limit`` equal
    strata (all rows when there are fewer): a random sample that needs no sort, and that
    covers a file written in time order evenly."""
    if n <= limit:
        return np.arange(n)
    starts = np.arange(limit, dtype=np.int64) * n // limit
    sizes = np.diff(np.append(starts, n))
    return starts + (rng.random(limit) * sizes).astype(np.int64)


def numeric_stats(name: str, dtype: str, chunks: list[Any], *, bins: int,
                  rng: np.random.Generator) -> NumericColumn:
    rows = 0
    parts: list[np.ndarray] = []
    for chunk in chunks:  # one column in memory at a time, as float64
        rows += len(chunk)
        parts.extend(p for p in finite_slices(chunk) if len(p))
    n = sum(len(p) for p in parts)
    if n == 0:
        return NumericColumn(name=name, dtype=dtype, rows=rows, missing=rows, distinct=0)
    lo = float(min(p.min() for p in parts))
    hi = float(max(p.max() for p in parts))
    mean = float(sum(float(p.sum()) for p in parts) / n)
    std = float(np.sqrt(sum(_squares(p - mean) for p in parts) / n))
    sample = np.sort(_sample(parts, n, rng))
    first = np.concatenate([[True], sample[1:] != sample[:-1]])
    uniq = sample[first]
    value_counts = None
    if n <= SAMPLE:
        vals, cnts = uniq, np.diff(np.append(np.flatnonzero(first), len(sample)))
        distinct = len(vals)
    else:
        distinct, vals, cnts = _distinct(parts, uniq)
    if distinct <= VALUE_COUNTS_CAP:
        value_counts = tuple((float(v), int(c)) for v, c in zip(vals, cnts))
    if distinct <= bins:  # every distinct value is an edge: each bin holds exactly one value
        edges = np.asarray(vals, dtype=np.float64)
    else:
        edges = np.unique(np.concatenate([[lo], _quantiles(sample, _edge_quantiles(bins)), [hi]]))
    counts, offsets = histogram(parts, edges)
    return NumericColumn(
        name=name, dtype=dtype, rows=rows, missing=rows - n, distinct=min(distinct, DISTINCT_CAP),
        min=lo, max=hi, mean=mean, std=std,
        quantiles={str(q): float(v) for q, v in zip(QUANTILES, _quantiles(sample, np.array(QUANTILES)))},
        edges=tuple(float(e) for e in edges), counts=tuple(int(c) for c in counts),
        offsets=tuple(float(o) for o in offsets),
        values=tuple(sample.tolist()) if n <= SMALL_REFERENCE else None,
        value_counts=value_counts)


def _edge_quantiles(bins: int) -> np.ndarray:
    """Equal-share bins, plus finer ones in each tail: a heavy tail's few values span most of
    the range, and distances integrate over the range."""
    tail = np.array([1e-4, 3e-4, 1e-3, 3e-3])
    inner = np.linspace(0, 1, bins + 1)[1:-1]
    return np.unique(np.concatenate([tail, inner, 1 - tail]))


class Histogram:
    """Bucket counts and offset sums (value minus its bucket's left edge) over ``edges``,
    accumulated slice by slice."""

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = np.asarray(edges, dtype=np.float64)
        self.origin = float(self.edges[0]) if len(self.edges) else 0.0
        self.counts = np.zeros(len(self.edges) + 1, dtype=np.int64)
        self.shifted = np.zeros(len(self.edges) + 1, dtype=np.float64)  # sums of (value - origin)
        self.find = bin_index(self.edges)

    def add(self, values: np.ndarray) -> None:
        idx = self.find(values)
        self.counts += np.bincount(idx, minlength=len(self.counts))
        self.shifted += np.bincount(idx, weights=values - self.origin, minlength=len(self.counts))

    def offsets(self) -> np.ndarray:
        # Sums relative to the first edge, not to 0, keep the precision of values far from 0
        # with a small spread; here they move to each bucket's own left edge.
        left = np.concatenate([self.edges[:1], self.edges]) - self.origin
        return self.shifted - self.counts * left


def histogram(parts: Any, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(counts, offsets) of all ``parts`` (float arrays) on ``edges``."""
    h = Histogram(edges)
    for p in parts:
        h.add(p)
    return h.counts, h.offsets()


def _squares(d: np.ndarray) -> float:
    return float(np.dot(d, d))


def _quantiles(ordered: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(x, q)`` (linear method) of an already sorted ``x``, without re-sorting."""
    h = (len(ordered) - 1) * q
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, len(ordered) - 1)
    return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])


def _sample(parts: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    if n <= SAMPLE:
        return np.concatenate(parts)
    at = sample_rows(n, SAMPLE, rng)
    out, start = [], 0
    for p in parts:
        lo, hi = np.searchsorted(at, [start, start + len(p)])
        out.append(p[at[lo:hi] - start])
        start += len(p)
    return np.concatenate(out)


def _distinct(parts: list[np.ndarray], uniq: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Distinct count (capped) and value counts, for a column larger than the sample: values
    the sample saw are counted by lookup, the few it missed are collected."""
    if len(uniq) > DISTINCT_CAP:
        return DISTINCT_CAP, uniq, np.zeros(len(uniq), dtype=np.int64)
    counts = np.zeros(len(uniq), dtype=np.int64)
    extra: dict[float, int] = {}
    for p in parts:
        j = np.minimum(np.searchsorted(uniq, p), len(uniq) - 1)
        hit = uniq[j] == p
        counts += np.bincount(j[hit], minlength=len(uniq))
        if not hit.all():
            v, c = np.unique(p[~hit], return_counts=True)
            for value, k in zip(v.tolist(), c.tolist()):
                extra[value] = extra.get(value, 0) + k
            if len(uniq) + len(extra) > DISTINCT_CAP:
                return DISTINCT_CAP, uniq, counts
    vals = np.concatenate([uniq, np.array(sorted(extra), dtype=np.float64)])
    cnts = np.concatenate([counts, np.array([extra[v] for v in sorted(extra)], dtype=np.int64)])
    order = np.argsort(vals, kind="stable")
    return len(vals), vals[order], cnts[order]


def categorical_stats(name: str, dtype: str, chunks: list[Any], *, top_k: int) -> CategoricalColumn:
    values, counts, missing, rows = category_counts(iter(chunks))
    n = int(counts.sum())
    keep = len(values) if n <= SMALL_REFERENCE else top_k
    cats = tuple(zip(values[:keep].to_pylist(), counts[:keep].tolist()))
    return CategoricalColumn(name=name, dtype=dtype, rows=rows, missing=missing,
                             distinct=len(values), categories=cats, other=n - sum(c for _, c in cats))

"""One pass over a current column, keeping only what its reference's tests need: counts on
the reference's bin edges, counts at the reference's distinct values (for KS and for
low-cardinality columns), and the raw values while there are few of them (exact tests)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from stead.monitoring.columns import bin_index, category_counts, finite_slices
from stead.monitoring.reference import DISTINCT_CAP, Histogram, NumericColumn

__all__ = ["NumericSummary", "CategoricalSummary", "summarize_numeric", "summarize_categorical", "RAW_CAP"]

RAW_CAP = 10_000  # scipy's ks_2samp is exact up to this size: keep raw values until then


@dataclass
class NumericSummary:
    rows: int = 0
    count: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(0))
    raw: np.ndarray | None = None
    le: np.ndarray | None = None        # current values <= each distinct reference value
    lt: np.ndarray | None = None        # current values < each distinct reference value
    at_values: np.ndarray | None = None  # current count at each reference value (low cardinality)
    new_values: dict[float, int] = field(default_factory=dict)  # values the reference never had
    new_overflow: bool = False

    @property
    def missing(self) -> int:
        return self.rows - self.count


@dataclass
class CategoricalSummary:
    rows: int
    missing: int
    values: pa.Array  # most frequent first
    counts: np.ndarray

    @property
    def count(self) -> int:
        return self.rows - self.missing


def summarize_numeric(chunks: Iterator[pa.Array], ref: NumericColumn) -> NumericSummary:
    """Everything the drift tests need from the current column, in one pass."""
    edges = np.asarray(ref.edges, dtype=np.float64)
    uniq = np.unique(np.asarray(ref.values)) if ref.values is not None else None
    find_u = bin_index(uniq) if uniq is not None and len(uniq) else None
    known = np.asarray([v for v, _ in ref.value_counts]) if ref.value_counts is not None else None
    s = NumericSummary()
    hist = Histogram(edges) if len(edges) else None
    raw: list[np.ndarray] = []
    if uniq is not None:
        s.le = np.zeros(len(uniq), dtype=np.int64)
        s.lt = np.zeros(len(uniq), dtype=np.int64)
    if known is not None:
        s.at_values = np.zeros(len(known), dtype=np.int64)
    for chunk in chunks:
        s.rows += len(chunk)
        for x in finite_slices(chunk):
            if not len(x):
                continue
            s.count += len(x)
            if s.count <= RAW_CAP:
                raw.append(x)
            if hist is not None:
                hist.add(x)
            if find_u is not None and uniq is not None and s.le is not None and s.lt is not None:
                right = find_u(x)  # number of reference values <= x
                equal = (right > 0) & (uniq[np.maximum(right - 1, 0)] == x)
                s.lt += np.bincount(right, minlength=len(uniq) + 1)[:-1]
                s.le += np.bincount(right - equal, minlength=len(uniq) + 1)[:-1]
            if known is not None and s.at_values is not None:
                _count_values(s, known, x)
    if hist is not None:
        s.counts, s.offsets = hist.counts, hist.offsets()
    s.raw = np.concatenate(raw) if s.count <= RAW_CAP and raw else (np.zeros(0) if s.count == 0 else None)
    if s.le is not None and s.lt is not None:
        s.le, s.lt = np.cumsum(s.le), np.cumsum(s.lt)
    return s


def _count_values(s: NumericSummary, known: np.ndarray, x: np.ndarray) -> None:
    assert s.at_values is not None
    j = np.minimum(np.searchsorted(known, x), len(known) - 1)
    hit = known[j] == x
    s.at_values += np.bincount(j[hit], minlength=len(known))
    if hit.all() or s.new_overflow:
        return
    v, c = np.unique(x[~hit], return_counts=True)
    for value, k in zip(v.tolist(), c.tolist()):
        s.new_values[value] = s.new_values.get(value, 0) + k
    if len(s.new_values) > DISTINCT_CAP:
        s.new_overflow = True


def summarize_categorical(chunks: Iterator[pa.Array]) -> CategoricalSummary:
    values, counts, missing, rows = category_counts(chunks)
    return CategoricalSummary(rows=rows, missing=missing, values=values, counts=counts)

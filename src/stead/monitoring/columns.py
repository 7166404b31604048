"""Tabular data read one column at a time: a pyarrow Table, Parquet files, a CSV file, a
pandas DataFrame or a dict of arrays, all behind one small ``Columns`` object.

Drift statistics look at one column at a time, so holding one column (one Parquet row group
of it, for files) is all the memory they need, however wide or long the data is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stead.errors import InvalidParameter, NotFound

__all__ = ["Columns", "open_columns", "column_kind", "type_family", "finite_slices", "category_counts", "take",
           "bin_index"]

T = TypeVar("T")

# Numeric work is done on slices of at most this many values (cache-friendly, bounded memory).
SLICE = 1 << 20


class Columns:
    """Names, Arrow types and per-column chunks of one table-like source."""

    def __init__(self, schema: pa.Schema, num_rows: int, *, table: pa.Table | None = None,
                 files: Sequence[str] = ()) -> None:
        self.schema = schema
        self.num_rows = num_rows
        self._table = table
        self._files = list(files)

    @property
    def names(self) -> list[str]:
        return list(self.schema.names)

    def arrow_type(self, name: str) -> pa.DataType:
        return self.schema.field(name).type

    def chunks(self, name: str) -> Iterator[pa.Array]:
        """The column's values as Arrow arrays, one row group (or table chunk) at a time."""
        if self._table is not None:
            yield from self._table.column(name).chunks
            return
        import pyarrow.parquet as pq

        for path in self._files:
            pf = pq.ParquetFile(path)
            if name not in pf.schema_arrow.names:
                continue
            for i in range(pf.num_row_groups):
                yield from pf.read_row_group(i, columns=[name]).column(0).chunks

    def column(self, name: str) -> list[pa.Array]:
        """All of one column's chunks, read now (one column in memory, never the table)."""
        return list(self.chunks(name))

    def map(self, fn: Callable[[str, list[pa.Array]], T], names: list[str], *, workers: int = 2) -> list[T]:
        """``[fn(name, chunks of name) for name in names]``, two columns at a time in threads:
        Parquet decoding and most numpy work release the GIL, so a second core is used, and
        memory is at most ``workers`` columns."""
        if workers <= 1 or len(names) <= 1 or self.num_rows < 100_000:  # threads cost more than they save
            return [fn(name, self.column(name)) for name in names]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers, thread_name_prefix="stead-columns") as pool:
            return list(pool.map(lambda name: fn(name, self.column(name)), names))


def take(chunks: list[pa.Array], rows: np.ndarray) -> np.ndarray:
    """The numeric values at sorted row positions ``rows`` (float64, missing as NaN)."""
    out = np.full(len(rows), np.nan)
    start = 0
    for chunk in chunks:
        stop = start + len(chunk)
        lo, hi = np.searchsorted(rows, [start, stop])
        if hi > lo:
            out[lo:hi] = _float64(chunk.take(pa.array(rows[lo:hi] - start)))
        start = stop
    return out


def open_columns(data: Any) -> Columns:
    """Wrap a pyarrow Table/RecordBatch, a pandas DataFrame, a dict of arrays, a Parquet or CSV
    path, or a list of Parquet paths (a prediction-log window)."""
    if isinstance(data, Columns):
        return data
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        return Columns(data.schema, data.num_rows, table=data)
    if isinstance(data, dict):
        return open_columns(pa.table({str(k): _as_array(v) for k, v in data.items()}))
    if type(data).__module__.startswith("pandas"):
        return open_columns(pa.Table.from_pandas(data, preserve_index=False))
    if isinstance(data, (str, os.PathLike)):
        return _open_path(os.fspath(data))
    if isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
        return _open_parquet([os.fspath(p) for p in data])
    raise InvalidParameter(
        f"cannot read {type(data).__name__} as a table: pass a pyarrow Table, a pandas DataFrame, "
        "a dict of arrays, or the path of a Parquet or CSV file")


def _as_array(values: Any) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    arr = np.asarray(values)
    if arr.dtype.kind in "OU":
        return pa.array(arr.tolist())
    return pa.array(arr)


def _open_path(path: str) -> Columns:
    if not os.path.exists(path):
        raise NotFound(f"no such file: {path}")
    if os.path.isdir(path):
        files = sorted(os.path.join(root, f) for root, _, names in os.walk(path)
                       for f in names if f.endswith((".parquet", ".pq")))
        if not files:
            raise InvalidParameter(f"folder {path} holds no .parquet files")
        return _open_parquet(files)
    if path.lower().endswith((".csv", ".csv.gz", ".tsv")):
        import pyarrow.csv as pcsv

        opts = pcsv.ParseOptions(delimiter="\t") if path.lower().endswith(".tsv") else None
        return open_columns(pcsv.read_csv(path, parse_options=opts))
    return _open_parquet([path])


def _open_parquet(files: list[str]) -> Columns:
    import pyarrow.parquet as pq

    try:
        metas = [pq.ParquetFile(f) for f in files]
    except (OSError, pa.ArrowInvalid) as exc:
        raise InvalidParameter(f"cannot read {files[0]} as Parquet ({exc}); pass a Parquet or CSV file") from exc
    schema = metas[0].schema_arrow
    for m in metas[1:]:  # a column that only later files have is still a column
        for field in m.schema_arrow:
            if field.name not in schema.names:
                schema = schema.append(field)
    return Columns(schema, sum(m.metadata.num_rows for m in metas), files=files)


def column_kind(dtype: pa.DataType) -> str | None:
    """``"numeric"``, ``"categorical"`` or None (a type drift checks skip: dates, lists, bytes)."""
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "numeric"
    if (pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_boolean(dtype)
            or pa.types.is_dictionary(dtype) or getattr(pa.types, "is_string_view", lambda _t: False)(dtype)):
        return "categorical"
    return None


def type_family(dtype: pa.DataType) -> str:
    """What a type means for drift: ``numeric``, ``boolean``, ``string`` or ``other``. A column
    whose family differs between reference and current is a schema violation (int64 → double
    is not; number → string is)."""
    if pa.types.is_dictionary(dtype):  # codes of categories, whatever the categories are
        return "boolean" if pa.types.is_boolean(dtype.value_type) else "string"
    if column_kind(dtype) == "numeric":
        return "numeric"
    if pa.types.is_boolean(dtype):
        return "boolean"
    if column_kind(dtype) == "categorical":
        return "string"
    return "other"


def finite_slices(chunk: pa.Array) -> Iterator[np.ndarray]:
    """float64 slices of one numeric Arrow chunk with nulls, NaN and ±inf dropped (Evidently
    drops them before its tests; they count as missing)."""
    values = _float64(chunk)
    for start in range(0, len(values), SLICE):
        part = values[start:start + SLICE]
        finite = np.isfinite(part)
        yield part if finite.all() else part[finite]


def _float64(chunk: pa.Array) -> np.ndarray:
    if not pa.types.is_float64(chunk.type):
        chunk = chunk.cast(pa.float64())
    return chunk.to_numpy(zero_copy_only=False)


def category_counts(chunks: Iterator[pa.Array]) -> tuple[pa.Array, np.ndarray, int, int]:
    """(values, counts, missing, rows) of a categorical column, most frequent first (ties by
    value). Counting and sorting are Arrow's, so a column of millions of distinct strings (an
    id) stays in C++ and never becomes Python objects."""
    values: list[pa.Array] = []
    counts: list[pa.Array] = []
    missing = rows = 0
    for chunk in chunks:
        rows += len(chunk)
        missing += chunk.null_count
        if pa.types.is_dictionary(chunk.type):  # count the small integer codes, then name them
            vc = pc.value_counts(chunk.indices)
            found = chunk.dictionary.take(vc.field("values"))
        else:
            vc = pc.value_counts(chunk)
            found = vc.field("values")
        if values and found.type != values[0].type:
            found = found.cast(values[0].type)
        values.append(found)
        counts.append(vc.field("counts"))
    if not values:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int64), missing, rows
    table = pa.table({"v": pa.concat_arrays(values), "c": pa.concat_arrays(counts)})
    table = table.filter(pc.is_valid(table.column("v"))).group_by("v").aggregate([("c", "sum")])
    table = table.sort_by([("c_sum", "descending"), ("v", "ascending")])
    return table.column("v").combine_chunks(), table.column("c_sum").to_numpy(), missing, rows


class _Lookup:
    """Bucket a value among sorted edges without a binary search per value: a uniform grid over
    the inner edges maps most values to their bucket in one gather; values in grid cells that
    hold an edge (a few percent) fall back to ``np.searchsorted``. Same answer as
    ``np.searchsorted(edges, x, side="right")``, several times faster on large arrays."""

    CELLS = 1 << 16

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = edges
        inner = edges[1:-1] if len(edges) > 3 else edges
        self.lo = float(inner[0]) if len(inner) else 0.0
        span = float(inner[-1]) - self.lo if len(inner) else 0.0
        self.ok = len(edges) > 3 and np.isfinite(span) and span > 0
        if not self.ok:
            return
        self.scale = self.CELLS / span
        w = span / self.CELLS
        left = self.lo + (np.arange(self.CELLS + 2) - 1) * w  # cell c covers [left[c], left[c] + w)
        first = np.searchsorted(edges, left - w, side="right")  # one cell of slack each side
        last = np.searchsorted(edges, left + 2 * w, side="right")
        table = np.where(first == last, first, -1)
        table[0] = table[-1] = -1  # outside the grid: always searched
        self.table = table.astype(np.int32 if len(edges) < 2**31 else np.int64)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if not self.ok or len(x) < 4096:
            return np.searchsorted(self.edges, x, side="right")
        cell = (x - self.lo) * self.scale
        np.clip(cell, -1.0, self.CELLS, out=cell)
        idx: np.ndarray = self.table[cell.astype(np.intp) + 1]
        miss = np.flatnonzero(idx < 0)
        if len(miss):
            idx[miss] = np.searchsorted(self.edges, x[miss], side="right")
        return idx


def bin_index(edges: np.ndarray) -> _Lookup:
    """A callable equal to ``lambda x: np.searchsorted(edges, x, side="right")``, faster."""
    return _Lookup(np.asarray(edges, dtype=np.float64))

"""Profiles of tabular files (CSV, TSV, Parquet) with pyarrow.

Per column: type, null fraction, and for numbers min/max/mean/std and a histogram, for
strings and booleans the number of distinct values and the most frequent ones. A profile
is computed once per file content (kept in ``cache/profiles/<hash>.json``), so adding a
new version re-profiles only the files that changed.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter

if TYPE_CHECKING:
    import pyarrow as pa

    from stead.data.cache import Cache
    from stead.data.manifest import Manifest

__all__ = ["TABULAR", "is_tabular", "read_table", "profile_table", "profile_manifest"]

TABULAR = (".csv", ".tsv", ".parquet", ".pq")
_BINS = 10
_TOP = 10
MAX_PROFILE_BYTES = 2 << 30  # larger files are not profiled on add


def is_tabular(path: str) -> bool:
    return path.lower().endswith(TABULAR)


def read_table(path: str, logical_name: str) -> "pa.Table":
    """Read a CSV/TSV/Parquet file; ``logical_name`` (its name in the data set) picks the format."""
    import pyarrow as pa

    lower = logical_name.lower()
    try:
        if lower.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        import pyarrow.csv as pcsv

        parse = pcsv.ParseOptions(delimiter="\t") if lower.endswith(".tsv") else None
        return pcsv.read_csv(path, parse_options=parse)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidParameter(f"{logical_name} cannot be read as a table: {exc}") from exc


def _kind(t: "pa.DataType") -> str:
    import pyarrow.types as pt

    if pt.is_boolean(t):
        return "bool"
    if pt.is_integer(t) or pt.is_floating(t) or pt.is_decimal(t):
        return "number"
    if pt.is_temporal(t):
        return "time"
    if pt.is_string(t) or pt.is_large_string(t) or pt.is_dictionary(t):
        return "string"
    return "other"


def _num(v: Any) -> Any:
    if v is None:
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return None if f != f else (int(v) if isinstance(v, int) else f)


def profile_column(col: "pa.ChunkedArray") -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(col)
    nulls = col.null_count
    out: dict[str, Any] = {"type": str(col.type), "count": n, "null_fraction": (nulls / n) if n else 0.0}
    kind = _kind(col.type)
    out["kind"] = kind
    valid = n - nulls
    if kind == "number" and valid:
        values = col.cast(pa.float64()) if not pa.types.is_floating(col.type) else col
        mm = pc.min_max(values)
        out["min"], out["max"] = _num(mm["min"].as_py()), _num(mm["max"].as_py())
        out["mean"] = _num(pc.mean(values).as_py())
        out["std"] = _num(pc.stddev(values, ddof=0).as_py())
        arr = values.drop_null().to_numpy()
        arr = arr[np.isfinite(arr)]
        if arr.size:
            counts, edges = np.histogram(arr, bins=_BINS)
            out["histogram"] = {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}
    elif kind == "time" and valid:
        mm = pc.min_max(col)
        out["min"], out["max"] = _num(mm["min"].as_py()), _num(mm["max"].as_py())
    elif kind in ("string", "bool") and valid:
        vc = pc.value_counts(col.drop_null())
        vals, counts = vc.field("values").to_pylist(), vc.field("counts").to_pylist()
        order = sorted(range(len(vals)), key=lambda i: -counts[i])
        out["distinct"] = len(vals)
        out["top"] = [[str(vals[i]), int(counts[i])] for i in order[:_TOP]]
    return out


def profile_table(table: "pa.Table") -> dict[str, Any]:
    return {
        "rows": table.num_rows,
        "columns": {name: profile_column(table.column(name)) for name in table.column_names},
    }


def profile_manifest(cache: "Cache", manifest: "Manifest") -> dict[str, Any]:
    """``relative path -> profile`` of every tabular file of a manifest."""
    out: dict[str, Any] = {}
    for rel, (digest, size) in manifest.files.items():
        if not is_tabular(rel) or size > MAX_PROFILE_BYTES:
            continue
        cached = cache.root / "profiles" / f"{digest}.json"
        if cached.exists():
            out[rel] = json.loads(cached.read_text())
            continue
        try:
            prof = profile_table(read_table(cache.path(digest), rel))
        except InvalidParameter as exc:
            prof = {"error": exc.message}
        out[rel] = prof
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = f"{cached}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(prof, f)
        os.replace(tmp, cached)
    return out

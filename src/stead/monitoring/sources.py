"""Where monitored data comes from: a dataset version, a file, a table, or a window of a
deployment's prediction log, each turned into something ``open_columns`` reads.

A dataset version (``data:/customers@4``) is fetched with ``stead.data.get`` (pinned:
``@latest`` becomes its number) and read as its Parquet files, or its CSV files. A window of
the prediction log reads the Parquet files ``stead serve`` wrote for the deployment
(``prediction-logs/<deployment>/date=YYYY-MM-DD/``), keeps the rows of the window (shadow
answers left out: they repeat the inputs of the live ones), and decodes the JSON ``inputs``
and ``outputs`` of each request into columns.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    import pyarrow as pa

    from stead.config import Settings

__all__ = ["Source", "open_data", "dataset_source", "file_source", "window_source", "deployment_window",
           "read_window", "log_window", "parse_window", "decode_requests"]

_WINDOW = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d|w)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TABULAR = (".parquet", ".pq", ".csv", ".tsv", ".csv.gz")


@dataclass(frozen=True)
class Source:
    """Data to measure: ``data`` is what ``open_columns`` reads (a pyarrow Table, a path, a
    list of Parquet paths); ``label`` says where it came from (``data:/customers@4``, a file
    name, ``deployment churn 1h``); ``kind`` is ``dataset``, ``file``, ``table`` or
    ``prediction-log``."""

    data: Any
    label: str
    kind: str


def open_data(data: Any, *, settings: "Settings | None" = None) -> Source:
    """A ``Source`` from a ``data:/name@version`` reference, a path of a Parquet or CSV file
    (or a folder of them), or a table (pyarrow, pandas, a dict of arrays)."""
    if isinstance(data, Source):
        return data
    if isinstance(data, str) and data.startswith("data:"):
        return dataset_source(data, settings=settings)
    if isinstance(data, (str, os.PathLike)):
        return file_source(data)
    return Source(data, "table", "table")


def dataset_source(uri: str, *, settings: "Settings | None" = None) -> Source:
    """The files of dataset version ``uri`` (``data:/customers@4``, ``data:/customers@latest``)."""
    import stead.data
    from stead.data.lineage import parse_data_uri

    parse_data_uri(uri)
    version = stead.data.get_version(uri, settings=settings)
    path = stead.data.get(version.uri, log_input=False, settings=settings)
    return Source(_tabular(path, version.uri), version.uri, "dataset")


def file_source(path: str | os.PathLike[str]) -> Source:
    """A Parquet or CSV file, or a folder of them."""
    p = Path(path).expanduser()
    if not p.exists():
        raise NotFound(f"No such file: {os.fspath(path)}; pass a Parquet or CSV file, a folder of them, "
                       "or a dataset version (data:/customers@4)")
    return Source(_tabular(p, os.fspath(path)), p.name, "file")


def _tabular(path: Path, label: str) -> Any:
    """What ``open_columns`` reads for ``path``: the file, the list of a folder's Parquet
    files, or its CSV files as one table."""
    if path.is_file():
        if not path.name.lower().endswith(_TABULAR):
            raise InvalidParameter(f"{label} is not a Parquet or CSV file ({path.name}); pass one of those")
        return str(path)
    files = sorted(str(f) for f in path.rglob("*") if f.is_file() and f.name.lower().endswith(_TABULAR)
                   and not any(part.startswith(".") for part in f.relative_to(path).parts))
    parquet = [f for f in files if f.lower().endswith((".parquet", ".pq"))]
    if parquet:
        return parquet
    if not files:
        raise InvalidParameter(f"{label} holds no Parquet or CSV file; monitoring reads tabular data")
    if len(files) == 1:
        return files[0]
    import pyarrow as pa

    from stead.monitoring.columns import open_columns

    tables = []
    for f in files:
        cols = open_columns(f)
        tables.append(pa.table({n: pa.chunked_array(cols.column(n), cols.arrow_type(n)) for n in cols.names}))
    return pa.concat_tables(tables, promote_options="permissive")


def parse_window(text: str | float) -> float:
    """Seconds in ``30s``, ``15m``, ``1h``, ``2d``, ``1w`` (or a number of seconds)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _WINDOW.match(str(text).strip())
        if not match:
            raise InvalidParameter(f"Window {text!r} is not a duration: write it like 30s, 15m, 1h, 2d or 1w")
        seconds = float(match[1]) * _UNIT[match[2]]
    if not 0 < seconds < float("inf"):
        raise InvalidParameter(f"Window {text!r} must be longer than nothing")
    return seconds


def window_source(artifacts: Any, deployment: str, window: str | float, *, end: float | None = None,
                  prediction: str | None = None, names: Sequence[str] | None = None,
                  variant: str | None = None) -> Source:
    """The requests ``deployment`` answered in the ``window`` seconds before ``end`` (default
    now), read from its prediction log in ``artifacts``, one row per input row. ``prediction``
    names the column a model's single output becomes; ``names`` the columns of inputs sent
    without names (positional rows)."""
    seconds = parse_window(window)
    stop = time.time() if end is None else float(end)
    start = stop - seconds
    table = read_window(artifacts, deployment, start, stop, variant=variant)
    label = f"deployment {deployment}, {_fmt(start)} to {_fmt(stop)}"
    return Source(decode_requests(table, prediction=prediction, names=names), label, "prediction-log")


def _fmt(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def read_window(artifacts: Any, deployment: str, start: float, end: float, *,
                variant: str | None = None) -> "pa.Table":
    """The prediction-log rows of ``deployment`` with ``start <= time < end``, shadows left out."""
    return log_window(artifacts, deployment, start, end, variant=variant,
                      columns=["time", "variant", "model_version", "request_id", "shadow", "inputs", "outputs",
                               "status"])


def log_window(artifacts: Any, deployment: str, start: float, end: float, *, columns: Sequence[str],
               variant: str | None = None) -> "pa.Table":
    """The answered requests (status 200, shadows left out) ``deployment`` logged with
    ``start <= time < end``, as one table of the prediction-log ``columns`` asked for (only
    those, and the ones the filter needs, are read from the Parquet files)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from stead.serving.prediction_log import prediction_log_files

    wanted = list(dict.fromkeys([*columns, "time", "shadow", "status", *(["variant"] if variant is not None else [])]))
    # a file lies in the folder of its first row's day: one that began just before midnight holds rows after it
    files = prediction_log_files(artifacts, deployment, first_day=_day(start - 86400), last_day=_day(end))
    low, high = int(start * 1e6), int(end * 1e6)
    tables: list[pa.Table] = []
    for path in files:  # a file's rows need not be in time order: each is read and filtered
        table = pq.read_table(io.BytesIO(artifacts.get_bytes(path)), columns=wanted)
        t = pc.cast(table.column("time"), pa.timestamp("us", tz="UTC")).cast(pa.int64())
        keep = pc.and_(pc.greater_equal(t, low), pc.less(t, high))
        keep = pc.and_(keep, pc.invert(pc.fill_null(table.column("shadow"), False)))
        keep = pc.and_(keep, pc.equal(pc.fill_null(table.column("status"), 200), 200))  # answered ones
        if variant is not None:
            keep = pc.and_(keep, pc.equal(table.column("variant"), variant))
        table = table.filter(keep)
        if table.num_rows:
            tables.append(table.select(list(columns)))
    if not tables:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    return pa.concat_tables(tables, promote_options="permissive")


def _day(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d")


def decode_requests(table: "pa.Table", *, prediction: str | None = None,
                    names: Sequence[str] | None = None) -> "pa.Table":
    """One row per input row of the logged requests: the JSON ``inputs`` of each request
    (columnar ``{"age": [..]}`` as ``stead serve`` writes it, records ``[{"age": ..}]``, or
    positional rows ``[[..]]`` named by ``names``) and its ``outputs`` (one output becomes
    ``prediction``, several keep their names), plus the request's time, variant and version.

    The log ``stead serve`` writes (every request columnar, with the same columns and outputs)
    is decoded in bulk; any other shape, or a bad row, request by request, to the same result."""
    import gc

    paused = gc.isenabled()
    gc.disable()  # the decoded requests are many small lists: collecting them while they are built costs more
    try:
        fast = _decode_columnar(table, prediction) if table.num_rows else None
    finally:
        if paused:
            gc.enable()
    return fast if fast is not None else _decode_each(table, prediction=prediction, names=names)


def _bulk_json(column: Any) -> list[Any] | None:
    """The JSON texts of ``column`` decoded in one call; None if one is null or not JSON."""
    import msgspec

    texts = column.to_pylist()
    if any(t is None for t in texts):
        return None
    try:
        values = msgspec.json.decode("[" + ",".join(texts) + "]")
    except (msgspec.DecodeError, TypeError):
        return None
    return values if len(values) == len(texts) else None


def _same_keys(values: list[Any]) -> tuple[str, ...] | None:
    """The keys every value shares (in one order), if each is a non-empty mapping of lists."""
    first = values[0]
    if not isinstance(first, dict) or not first:
        return None
    keys = tuple(first)
    if any(not isinstance(v, dict) or tuple(v) != keys for v in values):
        return None
    if any(not isinstance(v[k], list) for v in values for k in keys):
        return None
    if len(keys) == 1 and keys[0] == "inputs":
        return None  # a wrapped request ({"inputs": {...}}): the per-request path unwraps it
    return keys


def _bulk_column(values: list[Any], key: str) -> "pa.Array | None":
    """The values of ``key`` of every request, one array; None where the per-request path
    must decide (nested values mixed with others)."""
    import itertools

    import pyarrow as pa

    flat = list(itertools.chain.from_iterable(v[key] for v in values))
    try:
        array = pa.array(flat)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if pa.types.is_nested(array.type):
        return pa.nulls(0) if array.null_count == 0 else None  # every value a list or mapping: not a column
    return array


def _decode_columnar(table: "pa.Table", prediction: str | None) -> "pa.Table | None":
    """``decode_requests`` for a log of columnar requests of one shape; None for any other."""
    import numpy as np
    import pyarrow as pa

    inputs = _bulk_json(table.column("inputs"))
    outputs = _bulk_json(table.column("outputs")) if inputs is not None else None
    in_keys = _same_keys(inputs) if inputs is not None else None
    out_keys = _same_keys(outputs) if outputs is not None and in_keys is not None else None
    if inputs is None or outputs is None or in_keys is None or out_keys is None:
        return None
    heights = np.fromiter((len(v[k]) for v in inputs for k in in_keys), np.int64, len(inputs) * len(in_keys))
    heights = heights.reshape(len(inputs), len(in_keys))
    out_heights = np.fromiter((len(v[k]) for v in outputs for k in out_keys), np.int64,
                              len(outputs) * len(out_keys)).reshape(len(outputs), len(out_keys))
    n = heights[:, 0]
    if (n == 0).any() or (heights != n[:, None]).any() or (out_heights != n[:, None]).any():
        return None
    cols: dict[str, pa.Array] = {}
    for key in in_keys:
        array = _bulk_column(inputs, key)
        if array is None:
            return None
        if len(array):
            cols[str(key)] = array
    if not cols:
        return None
    out_cols: dict[str, pa.Array] = {}
    for key in out_keys:
        array = _bulk_column(outputs, key)
        if array is None:
            return None
        if len(array):
            out_cols[str(key)] = array
    if len(out_cols) == 1:
        out_cols = {prediction or next(iter(out_cols)): next(iter(out_cols.values()))}
    cols.update({k: v for k, v in out_cols.items() if k not in cols})
    rows = np.repeat(np.arange(table.num_rows), n)
    meta = {"request_time": ("time", pa.timestamp("us", tz="UTC")), "request_id": ("request_id", pa.string()),
            "variant": ("variant", pa.string()), "model_version": ("model_version", pa.string())}
    for name, (source, kind) in meta.items():
        if name not in cols:
            cols[name] = table.column(source).combine_chunks().cast(kind).take(pa.array(rows))
    return pa.table(cols)


def _decode_each(table: "pa.Table", *, prediction: str | None = None,
                 names: Sequence[str] | None = None) -> "pa.Table":
    """``decode_requests`` one request at a time: any shape."""
    import pyarrow as pa

    columns: dict[str, list[Any]] = {}
    meta: dict[str, list[Any]] = {"request_time": [], "request_id": [], "variant": [], "model_version": []}
    total = 0
    times = table.column("time").to_pylist() if table.num_rows else []
    ids = table.column("request_id").to_pylist() if table.num_rows else []
    variants = table.column("variant").to_pylist() if table.num_rows else []
    versions = table.column("model_version").to_pylist() if table.num_rows else []
    inputs = table.column("inputs").to_pylist() if table.num_rows else []
    outputs = table.column("outputs").to_pylist() if table.num_rows else []
    for i, (raw_in, raw_out) in enumerate(zip(inputs, outputs)):
        block = _columns(_loads(raw_in), names)
        n = _height(block)
        if n == 0:
            continue
        out = _loads(raw_out)
        out_block = _columns(out, None) if isinstance(out, (dict, list)) else {}
        if isinstance(out, list) and out and not isinstance(out[0], (dict, list)):
            out_block = {"prediction": out}
        if len(out_block) == 1:
            out_block = {prediction or next(iter(out_block)): next(iter(out_block.values()))}
        block.update({k: v for k, v in out_block.items() if len(v) == n and k not in block})
        for name, values in block.items():
            col = columns.get(name)
            if col is None:  # a column first seen here is missing for the rows before
                col = columns[name] = [None] * total
            col.extend(values)
        total += n
        for col in columns.values():  # a column this request lacked is missing for its rows
            col.extend([None] * (total - len(col)))
        meta["request_time"].extend([times[i]] * n)
        meta["request_id"].extend([ids[i]] * n)
        meta["variant"].extend([variants[i]] * n)
        meta["model_version"].extend([versions[i]] * n)
    out_cols = {name: _array(values) for name, values in columns.items()}
    for name, values in meta.items():
        if name not in out_cols:
            out_cols[name] = pa.array(values, pa.timestamp("us", tz="UTC") if name == "request_time" else pa.string())
    return pa.table(out_cols)


def _loads(raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None


def _columns(value: Any, names: Sequence[str] | None) -> dict[str, list[Any]]:
    """A request's rows as columns; scalars only (a list value, such as per-class
    probabilities, is not a column drift measures)."""
    if isinstance(value, dict):
        if "inputs" in value and isinstance(value["inputs"], (dict, list)) and len(value) == 1:
            return _columns(value["inputs"], names)
        out = {str(k): list(v) if isinstance(v, list) else [v] for k, v in value.items()}
    elif isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        keys = list(dict.fromkeys(k for r in value for k in r))
        out = {str(k): [r.get(k) for r in value] for k in keys}
    elif isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        width = max(len(r) for r in value)
        labels = list(names) if names is not None and len(names) == width else [str(j) for j in range(width)]
        out = {labels[j]: [r[j] if j < len(r) else None for r in value] for j in range(width)}
    else:
        return {}
    heights = {len(v) for v in out.values()}
    if len(heights) != 1:
        return {}
    return {k: v for k, v in out.items() if not any(isinstance(x, (list, dict)) for x in v)}


def _height(block: dict[str, list[Any]]) -> int:
    return len(next(iter(block.values()))) if block else 0


def _array(values: list[Any]) -> "pa.Array":
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds: keep them as text
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def deployment_window(store: Any, artifacts: Any, deployment: str, window: str | float, *,
                      end: float | None = None, prediction: str | None = None,
                      names: Sequence[str] | None = None, variant: str | None = None) -> Source:
    """``window_source`` for a deployment that exists (a row in the store, or a prediction log
    of that name from ``stead serve``); NotFound otherwise."""
    from sqlalchemy import select

    from stead.serving.tables import deployments

    if not artifacts.exists(f"prediction-logs/{deployment}"):
        with store.read() as conn:
            known = conn.execute(select(deployments.c.name).where(deployments.c.name == deployment)).first()
        if known is None:
            raise NotFound(f"Deployment {deployment!r} does not exist and has no prediction log; list them with "
                           "stead deploy list")
    return window_source(artifacts, deployment, window, end=end, prediction=prediction, names=names,
                         variant=variant)

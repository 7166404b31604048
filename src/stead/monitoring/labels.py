"""Labels for served predictions, which arrive later than the predictions themselves.

    from stead.monitoring import log_labels
    receipt = log_labels("churn", {"req-1": 1, "req-2": 0})
    receipt.matched, receipt.unknown          # 2, 0

Each call writes one Parquet file (columns ``request_id``, ``row``, ``label``, ``time``)
under ``prediction-logs/<deployment>/labels/date=YYYY-MM-DD/`` in the artifact store,
atomically, beside the prediction log it belongs to. Files rather than a table because
the prediction log is Parquet files too: live performance joins the two by request id
column by column, at the log's volume, without a row per label in the metadata store.

A label is one value for a request of one row, or a list of values, one per row, for a
request that sent several. Request ids the prediction log does not hold (yet: the log
flushes every few seconds) are counted in the receipt, never an error for the batch, and
kept: they join once their prediction is written. A later label for a request id replaces
the earlier one.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter

if TYPE_CHECKING:
    from stead.config import Settings

__all__ = ["LabelReceipt", "log_labels", "write_labels", "read_labels", "labels_from_records", "logged_request_ids"]

UNKNOWN_SHOWN = 20  # unknown request ids named in a receipt (all are counted)
MATCH_DAYS = 30  # how many days of the prediction log a batch is matched against
_MAX_ID = 256


@dataclass(frozen=True)
class LabelReceipt:
    """What one batch of labels did: ``received`` request ids, of which ``matched`` are in
    the prediction log and ``unknown`` are not (the first few named in ``unknown_ids``);
    ``rows`` label values were written to ``path`` (None for an empty batch)."""

    deployment: str
    received: int
    matched: int
    unknown: int
    rows: int
    unknown_ids: tuple[str, ...] = ()
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "received": self.received,
            "matched": self.matched,
            "unknown": self.unknown,
            "rows": self.rows,
            "unknown_ids": list(self.unknown_ids),
            "path": self.path,
        }


def labels_root(deployment: str) -> str:
    return f"prediction-logs/{deployment}/labels"


def log_labels(deployment: str, labels: Mapping[str, Any], *, settings: Settings | None = None,
               match_days: int = MATCH_DAYS) -> LabelReceipt:
    """Store ``labels`` (request id -> label) for ``deployment``'s predictions; see the module
    docstring. ``NotFound`` for a deployment that does not exist, ``InvalidParameter`` for a
    label that is not a number, a string or a boolean (or a list of them), before anything
    is written. The receipt's ``matched`` counts request ids found in the last
    ``match_days`` days of the log (reading its ``request_id`` column), so that a batch
    costs the same after a year of traffic as after a week."""
    from stead.artifacts import open_artifact_store
    from stead.config import load_settings
    from stead.store import open_store

    settings = settings or load_settings()
    store = open_store(settings.resolved_store_url)
    try:
        artifacts = open_artifact_store(settings.resolved_artifacts_url, settings.aws)
        return write_labels(store, artifacts, deployment, labels, match_days=match_days)
    finally:
        store.dispose()


def write_labels(store: Any, artifacts: Any, deployment: str, labels: Mapping[str, Any], *,
                 match_days: int = MATCH_DAYS) -> LabelReceipt:
    """``log_labels`` on an open metadata store and artifact store (what the server calls)."""
    from stead.serving.deployments import Deployments

    Deployments(store).get(deployment)  # NotFound names the deployment and how to list them
    if not isinstance(labels, Mapping):
        raise InvalidParameter("labels must map request ids to labels: {request_id: label, ...}")
    ids, rows, values = _flatten(labels)
    kind = _kind(values)
    if not ids:
        return LabelReceipt(deployment, 0, 0, 0, 0)
    known = logged_request_ids(artifacts, deployment, since=time.time() - match_days * 86400)
    unknown = [rid for rid in labels if rid not in known]
    path = _write(artifacts, deployment, ids, rows, values, kind)
    return LabelReceipt(deployment, len(labels), len(labels) - len(unknown), len(unknown), len(values),
                        tuple(unknown[:UNKNOWN_SHOWN]), path)


def labels_from_records(records: Iterable[Any]) -> dict[str, Any]:
    """``[{"request_id": ..., "label": ...}, ...]`` (the HTTP list form, a file's rows) as a
    mapping; a later record for the same request id wins."""
    out: dict[str, Any] = {}
    for i, record in enumerate(records):
        if not isinstance(record, Mapping) or "request_id" not in record or "label" not in record:
            raise InvalidParameter(f"label record {i} must be an object with request_id and label, got {record!r:.80}")
        out[record["request_id"]] = record["label"]
    return out


def _flatten(labels: Mapping[str, Any]) -> tuple[list[str], list[int], list[Any]]:
    ids: list[str] = []
    rows: list[int] = []
    values: list[Any] = []
    for rid, label in labels.items():
        if not isinstance(rid, str) or not rid or len(rid) > _MAX_ID:
            raise InvalidParameter(f"request id {rid!r:.80} must be a non-empty string of at most {_MAX_ID} characters")
        per_row = label if isinstance(label, list) else [label]
        if not per_row:
            raise InvalidParameter(f"the label of request {rid!r} is an empty list; give one value per row")
        for row, value in enumerate(per_row):
            _check_value(rid, value)
            ids.append(rid)
            rows.append(row)
            values.append(value)
    return ids, rows, values


def _check_value(rid: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidParameter(f"the label of request {rid!r} is {value}; a label must be a finite number")
    if not isinstance(value, (bool, int, float, str)):
        raise InvalidParameter(
            f"the label of request {rid!r} is a {type(value).__name__} ({value!r:.60}); a label is a number,"
            " a string or a boolean, or a list of them (one per row of the request)"
        )


def _kind(values: list[Any]) -> str:
    """One Parquet type for the batch: bool, int64, double or string."""
    kinds = {"bool" if isinstance(v, bool) else "str" if isinstance(v, str) else "number" for v in values}
    if len(kinds) > 1:
        raise InvalidParameter(
            f"labels in one batch must be of one kind; this one mixes {', '.join(sorted(kinds))}"
        )
    kind = kinds.pop() if kinds else "number"
    if kind == "number":
        return "int64" if all(isinstance(v, int) for v in values) else "double"
    return kind


def _write(artifacts: Any, deployment: str, ids: list[str], rows: list[int], values: list[Any], kind: str) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    now_ns = time.time_ns()
    types = {"bool": pa.bool_(), "int64": pa.int64(), "double": pa.float64(), "str": pa.string()}
    table = pa.table({
        "request_id": pa.array(ids, pa.string()),
        "row": pa.array(rows, pa.int32()),
        "label": pa.array(values, types[kind]),
        "time": pa.array([now_ns // 1000] * len(ids), pa.timestamp("us", tz="UTC")),
    })
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    day = _day(now_ns / 1e9)
    # names sort by time, so "a later label wins" is the order of the files
    path = f"{labels_root(deployment)}/date={day}/{now_ns:020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
    artifacts.put_bytes(buf.getvalue(), path)
    return path


def label_files(artifacts: Any, deployment: str, *, first_day: str | None = None) -> list[str]:
    """The label files of ``deployment``, oldest first (from ``first_day`` on, when given)."""
    root = labels_root(deployment)
    if not artifacts.exists(root):
        return []
    files = []
    for day in artifacts.list(root):
        name = day.path.rstrip("/").rsplit("/", 1)[-1]
        if not day.is_dir or not name.startswith("date=") or (first_day and name[5:] < first_day):
            continue
        files += [f.path for f in artifacts.list(f"{root}/{name}") if not f.is_dir and f.path.endswith(".parquet")]
    return sorted(files, key=lambda p: p.rsplit("/", 1)[-1])


def read_labels(artifacts: Any, deployment: str, *, since: float | None = None) -> dict[tuple[str, int], Any]:
    """Every label of ``deployment`` as ``{(request_id, row): label}``, the latest write of
    each request id winning (all of its rows together). ``since`` (seconds since the epoch)
    skips the days of label files written before it (a day early, to be safe): labels come
    after their predictions, so a window's labels are never older than the window."""
    import pyarrow.parquet as pq

    first_day = None if since is None else _day(since - 86400)
    latest: dict[str, dict[int, Any]] = {}
    for path in label_files(artifacts, deployment, first_day=first_day):
        table = pq.read_table(io.BytesIO(artifacts.get_bytes(path)), columns=["request_id", "row", "label"])
        fresh: dict[str, dict[int, Any]] = {}
        for rid, row, label in zip(table.column("request_id").to_pylist(), table.column("row").to_pylist(),
                                   table.column("label").to_pylist()):
            fresh.setdefault(rid, {})[row] = label
        latest.update(fresh)  # a later file replaces all rows of the request ids it names
    return {(rid, row): label for rid, rows in latest.items() for row, label in rows.items()}


def logged_request_ids(artifacts: Any, deployment: str, *, since: float | None = None) -> set[str]:
    """The request ids in ``deployment``'s prediction log (its ``request_id`` column only),
    from the day folders of ``since`` (seconds since the epoch) on, when given."""
    import pyarrow.parquet as pq

    from stead.serving.prediction_log import prediction_log_files

    first_day = None if since is None else _day(since)
    ids: set[str] = set()
    for path in prediction_log_files(artifacts, deployment, first_day=first_day):
        column = pq.read_table(io.BytesIO(artifacts.get_bytes(path)), columns=["request_id"]).column(0)
        ids.update(v for v in column.to_pylist() if v is not None)
    return ids


def _day(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d")

"""The prediction log: a sample of what a served model saw and answered, as Parquet files.

``record()`` is called on the request path and only appends to a list (after a sampling
draw); a background thread turns full buffers into one Parquet file each under
``prediction-logs/<deployment>/date=YYYY-MM-DD/`` in the artifact store. Files are written
atomically by the artifact store; a file is one flush, so readers never see half a file.
Why files and not a table: docs/serving.md ("Prediction log").
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import random
import threading
import time
import uuid
from typing import Any

import msgspec
import numpy as np

__all__ = ["PredictionLog", "read_prediction_log", "prediction_log_files", "SCHEMA_FIELDS"]

log = logging.getLogger("stead.serving")
SCHEMA_FIELDS = ("time", "deployment", "variant", "model_version", "protocol", "request_id", "latency_ms",
                 "shadow", "inputs", "outputs", "status")
_encode = msgspec.json.Encoder(
    enc_hook=lambda o: o.tolist() if isinstance(o, (np.ndarray, np.generic)) else str(o)).encode


class PredictionLog:
    """Buffer sampled predictions; flush every ``flush_rows`` records or ``flush_s`` seconds."""

    def __init__(self, store: Any, deployment: str, *, sample: float = 1.0, flush_rows: int = 1000,
                 flush_s: float = 5.0) -> None:
        self._store = store
        self.deployment = deployment
        self.sample = sample
        self._flush_rows = flush_rows
        self._flush_s = flush_s
        self._buffer: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="stead-prediction-log", daemon=True)
        self._thread.start()
        self.written = 0

    def record(self, variant: str, version: str, protocol: str, request_id: str | None, latency_s: float,
               inputs: Any, outputs: Any, *, shadow: bool = False, status: int = 200) -> None:
        """Keep one prediction (if the sample draw says so); the encoding happens in the flusher."""
        if self.sample < 1.0 and random.random() >= self.sample:
            return
        row = (time.time(), variant, version, protocol, request_id, latency_s * 1000.0, shadow, inputs, outputs, status)
        with self._lock:
            self._buffer.append(row)
            full = len(self._buffer) >= self._flush_rows
        if full:
            self._wake.set()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self._flush_s)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        with self._lock:
            rows, self._buffer = self._buffer, []
        if not rows:
            return
        try:
            self._write(rows)
        except Exception:  # noqa: BLE001 - losing a log sample must not stop serving
            log.exception("writing %d prediction log rows failed", len(rows))

    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        def js(value: Any) -> str:
            if hasattr(value, "as_records"):
                value = value.as_records()
            return _encode(value).decode()

        table = pa.table({
            "time": pa.array([int(r[0] * 1e6) for r in rows], pa.timestamp("us", tz="UTC")),
            "deployment": [self.deployment] * len(rows),
            "variant": [r[1] for r in rows],
            "model_version": [r[2] for r in rows],
            "protocol": [r[3] for r in rows],
            "request_id": [r[4] for r in rows],
            "latency_ms": pa.array([r[5] for r in rows], pa.float64()),
            "shadow": pa.array([r[6] for r in rows], pa.bool_()),
            "inputs": [js(r[7]) for r in rows],
            "outputs": [js(r[8]) for r in rows],
            "status": pa.array([r[9] for r in rows], pa.int32()),
        })
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        day = dt.datetime.fromtimestamp(rows[0][0], dt.timezone.utc).strftime("%Y-%m-%d")
        name = f"{int(rows[0][0] * 1000)}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
        self._store.put_bytes(buf.getvalue(), f"prediction-logs/{self.deployment}/date={day}/{name}")
        self.written += len(rows)

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=30)
        self.flush()


def prediction_log_files(store: Any, deployment: str, *, first_day: str | None = None,
                         last_day: str | None = None) -> list[str]:
    """The paths of ``deployment``'s prediction log files, oldest day first, optionally only
    the ``date=YYYY-MM-DD`` folders from ``first_day`` to ``last_day``. The ``labels`` folder
    beside the days (``stead.monitoring.labels``) is not part of the log and is skipped."""
    root = f"prediction-logs/{deployment}"
    if not store.exists(root):
        return []
    files = []
    for day in store.list(root):
        name = day.path.rstrip("/").rsplit("/", 1)[-1]
        if not day.is_dir or not name.startswith("date="):
            continue
        if (first_day and name[5:] < first_day) or (last_day and name[5:] > last_day):
            continue
        for info in store.list(f"{root}/{name}"):
            full = info.path if info.path.startswith(root) else f"{root}/{name}/{info.path}"
            if not info.is_dir and full.endswith(".parquet"):
                files.append(full)
    return sorted(files)


def read_prediction_log(store: Any, deployment: str) -> Any:
    """Every logged prediction of ``deployment`` as one pyarrow Table (for monitoring and tests)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(io.BytesIO(store.get_bytes(path))) for path in prediction_log_files(store, deployment)]
    return pa.concat_tables(tables) if tables else pa.table({f: [] for f in SCHEMA_FIELDS})

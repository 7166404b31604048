"""What each variant of a deployment did over a time range, from its prediction log (and the
labels that arrived since): the numbers a canary analysis and an A/B report compare.

    samples = read_variants(artifacts, "churn", start, end)
    samples["canary"].requests, samples["canary"].errors, samples["canary"].latency_ms

- A request counts for the variant that answered it (shadows left out). ``errors`` are the
  requests it failed with a server error (status 500 and above: the model's fault, not the
  caller's); latency is measured over the answered requests (status 200), since a quick
  failure is no evidence of speed.
- ``predictions`` holds one value per predicted row of the answered requests (the one
  output, or ``predict``; ``output=`` names another), ``correct`` one 0/1 per row that has a
  label, for a classifier (predictions that are labels: integers, strings, booleans).

``ab_reports`` turns them into the always-valid A/B verdicts of ``stead.monitoring.abtest``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stead.errors import InvalidParameter

__all__ = ["VariantSamples", "read_variants", "ab_reports", "METRICS"]

METRICS = ("accuracy", "latency", "error_rate")


@dataclass(frozen=True)
class VariantSamples:
    """One variant's requests, errors, latencies, predictions and correctness in a range."""

    name: str
    requests: int = 0
    errors: int = 0
    latency_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    error_flags: np.ndarray = field(default_factory=lambda: np.zeros(0))
    predictions: np.ndarray = field(default_factory=lambda: np.zeros(0))
    correct: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def labelled(self) -> int:
        return int(self.correct.size)

    def summary(self) -> dict[str, Any]:
        """The counts behind a decision, as plain JSON."""
        return {"requests": self.requests, "errors": self.errors, "answered": int(self.latency_ms.size),
                "predictions": int(self.predictions.size), "labelled": self.labelled,
                "correct": int(self.correct.sum()) if self.correct.size else 0,
                "median_latency_ms": float(np.median(self.latency_ms)) if self.latency_ms.size else None}


def read_variants(artifacts: Any, deployment: str, start: float, end: float, *,
                  versions: Mapping[str, str] | None = None, output: str | None = None) -> dict[str, VariantSamples]:
    """Each variant's samples from ``deployment``'s log rows with ``start <= time < end``
    (seconds since the epoch); a variant without a logged request is absent. ``versions``
    (variant -> model version) keeps only the rows a variant answered at that version, so
    an earlier candidate served under the same variant name is not counted."""
    import msgspec
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from stead.monitoring.labels import read_labels
    from stead.monitoring.live import _array, _column
    from stead.serving.prediction_log import prediction_log_files

    day = lambda t: dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d")  # noqa: E731
    files = prediction_log_files(artifacts, deployment, first_day=day(start - 86400), last_day=day(end))
    columns = ["time", "variant", "model_version", "request_id", "latency_ms", "outputs", "status", "shadow"]
    wanted = dict(versions or {})
    rows: dict[str, list[tuple[Any, float, int, str]]] = {}
    low, high = int(start * 1e6), int(end * 1e6)
    for path in files:
        table = pq.read_table(io.BytesIO(artifacts.get_bytes(path)), columns=columns)
        micros = pc.cast(table.column("time"), "int64")
        keep = pc.and_(pc.and_(pc.greater_equal(micros, low), pc.less(micros, high)),
                       pc.invert(pc.fill_null(table.column("shadow"), False)))
        table = table.filter(keep)
        for v, version, rid, ms, out, status in zip(*(table.column(c).to_pylist() for c in (
                "variant", "model_version", "request_id", "latency_ms", "outputs", "status"))):
            if v in wanted and str(version) != str(wanted[v]):
                continue
            rows.setdefault(str(v), []).append((rid, float(ms), int(status if status is not None else 200), out))
    labels = read_labels(artifacts, deployment, since=start) if rows else {}
    found: dict[str, VariantSamples] = {}
    for name, logged in sorted(rows.items()):
        answered = [r for r in logged if r[2] == 200]
        decoded = msgspec.json.decode(b"[" + b",".join(r[3].encode() for r in answered) + b"]") if answered else []
        preds: list[Any] = []
        flags: list[float] = []
        for (rid, _, _, _), out in zip(answered, decoded):
            for row, value in enumerate(_column(out, output)):
                preds.append(value)
                label = labels.get((rid, row)) if rid is not None else None
                if label is not None:
                    flags.append(float(label == value))
        predictions = _array(preds)
        classifier = predictions.dtype.kind in "iubUSO" or (
            predictions.dtype.kind == "f" and bool(np.all(np.mod(predictions, 1) == 0)))
        errors = np.asarray([float(r[2] >= 500) for r in logged])
        found[name] = VariantSamples(
            name, len(logged), int(errors.sum()), np.asarray([r[1] for r in answered], dtype=float), errors,
            predictions, np.asarray(flags if classifier else [], dtype=float))
    return found


def ab_reports(samples: Mapping[str, VariantSamples], metric: str, baseline: str, *,
               min_effect: float | None = None, alpha: float = 0.05, min_samples: int = 100) -> list[Any]:
    """One ``ABReport`` per variant other than ``baseline`` (A), comparing it (B) with the
    baseline on ``metric``: ``accuracy`` (correct per labelled row, higher is better),
    ``latency`` (ms per answered request, lower is better) or ``error_rate`` (server errors
    per request, lower is better)."""
    from stead.monitoring.abtest import ab_report

    if metric not in METRICS:
        raise InvalidParameter(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    values = {"accuracy": lambda s: s.correct, "latency": lambda s: s.latency_ms,
              "error_rate": lambda s: s.error_flags}[metric]
    kind = "mean" if metric == "latency" else "proportion"
    base = samples.get(baseline, VariantSamples(baseline))
    return [ab_report(values(base), values(other), metric=metric, kind=kind,  # type: ignore[arg-type]
                      names=(baseline, name), higher_is_better=metric == "accuracy", alpha=alpha,
                      min_effect=min_effect, min_samples=min_samples)
            for name, other in samples.items() if name != baseline]

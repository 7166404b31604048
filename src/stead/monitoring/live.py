"""Live performance of a deployment: its prediction log over a time range, joined by request
id to the labels that arrived since (``stead.monitoring.labels``), scored per window and
variant (``performance_by_window``).

    from stead.monitoring.live import live_performance
    records = live_performance("churn", window=3600, start=time.time() - 86400)

- The prediction is taken from the ``outputs`` the model server logged: the one output, or
  ``predict`` when there are several (``output=`` names another). Probabilities come from
  ``predict_proba`` when the request asked for them (``probabilities=`` names another): the
  positive class's column for a binary model, one column per class for a multiclass one.
- Only answered requests count (status 200), and not shadows' (the log gives a shadow's
  answer no request id to label); a request of several rows gives several predictions,
  scored against a label per row.
- Realized records carry ``extra["rows"]`` (traffic) beside ``n`` (rows with a label). A
  window without traffic is a "no data" record (``n == 0``, no metric).
- When labels lag (a window has rows without one), a binary classifier that logged
  probabilities gets an estimated record beside the realized one (``estimated=True``,
  CBPE), calibrated per variant on the labelled rows of the range, or of ``reference=``
  (another time range). A variant whose labelled rows lack one of the two classes gets no
  estimate: there is nothing to calibrate on.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from stead.errors import InvalidParameter
from stead.monitoring.performance import PerformanceRecord, performance_by_window, window_starts

if TYPE_CHECKING:
    from stead.config import Settings

__all__ = ["LoggedPredictions", "read_predictions", "live_performance", "measure"]

_PROBA = "predict_proba"


@dataclass(frozen=True)
class LoggedPredictions:
    """One row per predicted row of the answered requests in a time range, labels joined."""

    timestamps: np.ndarray      # seconds since the epoch
    variants: np.ndarray        # object array of variant names
    predictions: np.ndarray
    labels: np.ndarray          # object array, None where no label arrived
    probabilities: np.ndarray | None  # (rows,) or (rows, classes); None when none were logged

    @property
    def rows(self) -> int:
        return int(self.timestamps.size)


def live_performance(
    deployment: str,
    *,
    window: float,
    start: float | None = None,
    end: float | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> list[PerformanceRecord]:
    """Realized (and, while labels lag, estimated) performance of ``deployment`` per window
    and variant over ``[start, end)`` (default: the last window up to now). Options as in
    ``measure``. ``NotFound`` for a deployment that does not exist."""
    from stead.artifacts import open_artifact_store
    from stead.config import load_settings
    from stead.serving.deployments import Deployments
    from stead.store import open_store

    settings = settings or load_settings()
    store = open_store(settings.resolved_store_url)
    try:
        Deployments(store).get(deployment)
    finally:
        store.dispose()
    artifacts = open_artifact_store(settings.resolved_artifacts_url, settings.aws)
    return measure(artifacts, deployment, window=window, start=start, end=end, **options)


def measure(
    artifacts: Any,
    deployment: str,
    *,
    window: float,
    start: float | None = None,
    end: float | None = None,
    task: str | None = None,
    output: str | None = None,
    probabilities: str | None = None,
    positive: Any = 1,
    classes: Sequence[Any] | None = None,
    reference: tuple[float, float] | None = None,
    estimate: bool = True,
) -> list[PerformanceRecord]:
    """``live_performance`` on an open artifact store. ``task`` is ``classification`` or
    ``regression`` (default: regression when the predictions are non-integral numbers and no
    probabilities were logged). Records sorted by window, variant, realized before estimated."""
    if not window > 0:
        raise InvalidParameter(f"the window length must be positive seconds, got {window}")
    end = time.time() if end is None else float(end)
    start = end - window if start is None else float(start)
    if not start < end:
        raise InvalidParameter(f"the time range is empty: start {start} is not before end {end}")
    logged = read_predictions(artifacts, deployment, start, end, output=output, probabilities=probabilities)
    task = task or _task(logged)
    if task not in ("classification", "regression"):
        raise InvalidParameter(f"task must be classification or regression, got {task!r}")
    known = None if task == "regression" else _classes(logged, classes)
    proba = _scores(logged, known, positive) if task == "classification" else None
    realized = performance_by_window(
        logged.timestamps, logged.predictions, logged.labels, window=window, task=task,  # type: ignore[arg-type]
        probabilities=proba, variants=logged.variants, positive=positive, classes=known, start=start, end=end,
    )
    traffic = _traffic(logged, window)
    records = [dataclasses.replace(r, extra={**r.extra, "rows": traffic.get((r.start, r.variant), 0)})
               for r in realized]
    if estimate and task == "classification" and proba is not None and proba.ndim == 1 and len(known or []) <= 2:
        calibrate_on = logged
        if reference is not None:
            calibrate_on = read_predictions(artifacts, deployment, *reference, output=output,
                                            probabilities=probabilities)
        lagging = {(r.start, r.variant) for r in records if r.extra["rows"] > r.n}
        records += _estimates(logged, proba, calibrate_on, known, positive, window, lagging)
    return sorted(records, key=lambda r: (r.start, r.variant is not None, r.variant or "", r.estimated))


def read_predictions(
    artifacts: Any, deployment: str, start: float, end: float, *, output: str | None = None,
    probabilities: str | None = None,
) -> LoggedPredictions:
    """The answered predictions of ``deployment`` logged in ``[start, end)`` (shadows left
    out), with their labels."""
    import msgspec
    import pyarrow.compute as pc

    from stead.monitoring.labels import read_labels
    from stead.monitoring.sources import log_window

    table = log_window(artifacts, deployment, start, end, columns=["time", "variant", "request_id", "outputs"])
    times: list[float] = []
    variants: list[Any] = []
    request_ids: list[Any] = []
    outputs: list[str] = []
    if table.num_rows:
        times = (pc.cast(table.column("time"), "int64").to_numpy() / 1e6).tolist()
        variants = table.column("variant").to_pylist()
        request_ids = table.column("request_id").to_pylist()
        outputs = table.column("outputs").to_pylist()
    decoded = msgspec.json.decode("[" + ",".join(outputs) + "]") if outputs else []
    labels = read_labels(artifacts, deployment, since=start) if decoded else {}
    ts: list[float] = []
    var: list[Any] = []
    pred: list[Any] = []
    lab: list[Any] = []
    proba: list[Any] = []
    has_proba = bool(decoded)
    for t, v, rid, out in zip(times, variants, request_ids, decoded):
        values = _column(out, output)
        scores = out.get(probabilities or _PROBA) if isinstance(out, dict) else None
        if scores is None or len(scores) != len(values):
            if probabilities is not None:
                raise InvalidParameter(f"the logged outputs have no {probabilities!r}; they have {sorted(out)}")
            has_proba = False
        for row, value in enumerate(values):
            ts.append(t)
            var.append(v)
            pred.append(value)
            lab.append(labels.get((rid, row)) if rid is not None else None)
            proba.append(scores[row] if has_proba else None)
    try:
        scores_array = np.asarray(proba, dtype=float) if has_proba and proba else None
    except (TypeError, ValueError):
        raise InvalidParameter(f"the logged {probabilities or _PROBA!r} are not one number or one row of class"
                               " probabilities per prediction, of one width") from None
    return LoggedPredictions(np.asarray(ts, dtype=float), np.asarray(var, dtype=object), _array(pred),
                             np.asarray(lab, dtype=object), scores_array)


def _column(out: Any, output: str | None) -> list[Any]:
    """The logged prediction values of one request (one per row)."""
    if not isinstance(out, dict) or not out:
        raise InvalidParameter(f"a logged output is not a mapping of output names to values: {out!r:.80}")
    if output is None:
        names = [k for k in out if k != _PROBA]
        if len(names) == 1:
            output = names[0]
        elif "predict" in names:
            output = "predict"
        else:
            raise InvalidParameter(f"the model logs several outputs {sorted(out)}; name the prediction with output=")
    if output not in out:
        raise InvalidParameter(f"the logged outputs have no {output!r}; they have {sorted(out)}")
    values = out[output]
    values = values if isinstance(values, list) else [values]
    for value in values:
        if isinstance(value, list):
            if len(value) != 1:
                raise InvalidParameter(f"output {output!r} has {len(value)} values per row; name a single-valued"
                                       " output with output=")
    return [v[0] if isinstance(v, list) else v for v in values]


def _array(values: list[Any]) -> np.ndarray:
    """Predictions as a typed array where they share a type, else objects."""
    kinds = {type(v) for v in values}
    if kinds <= {int, float} and kinds:
        return np.asarray(values, dtype=float if float in kinds else np.int64)
    if kinds == {bool} or kinds == {str}:
        return np.asarray(values)
    return np.asarray(values, dtype=object)


def _task(logged: LoggedPredictions) -> str:
    p = logged.predictions
    if logged.probabilities is None and p.dtype.kind == "f" and not np.all(np.mod(p, 1) == 0):
        return "regression"
    return "classification"


def _classes(logged: LoggedPredictions, classes: Sequence[Any] | None) -> list[Any]:
    if classes is not None:
        return list(classes)
    from stead.monitoring.performance import labelled

    mask = labelled(logged.labels)
    seen = [*logged.predictions.tolist(), *logged.labels[mask].tolist()]
    try:
        return sorted(set(seen))
    except TypeError:
        raise InvalidParameter(f"the predictions and labels mix types ({sorted({type(v).__name__ for v in seen})});"
                               " pass classes=") from None


def _scores(logged: LoggedPredictions, classes: list[Any] | None, positive: Any) -> np.ndarray | None:
    """The probability of ``positive`` per row (binary), or one column per class."""
    p = logged.probabilities
    if p is None or p.ndim == 1:
        return p
    width = p.shape[1]
    known = list(classes or [])
    if width <= 2 and len(known) <= 2:
        if width == 1:
            return p[:, 0]
        # scikit-learn's predict_proba columns are its sorted classes
        column = known.index(positive) if len(known) == 2 and positive in known else 1
        return p[:, column]
    if len(known) != width:
        raise InvalidParameter(f"the logged probabilities have {width} columns but the classes are {known};"
                               " pass classes= in the model's order")
    return p


def _traffic(logged: LoggedPredictions, window: float) -> dict[tuple[float, Any], int]:
    counts: dict[tuple[float, Any], int] = {}
    for s, v in zip(window_starts(logged.timestamps, window).tolist(), logged.variants.tolist()):
        key = (float(s), None if v is None else str(v))
        counts[key] = counts.get(key, 0) + 1
    return counts


def _estimates(
    logged: LoggedPredictions, scores: np.ndarray, reference: LoggedPredictions, classes: list[Any] | None,
    positive: Any, window: float, lagging: set[tuple[float, Any]],
) -> list[PerformanceRecord]:
    """CBPE records per variant for the windows where labels lag."""
    from stead.monitoring.estimation import estimate_by_window, fit_cbpe
    from stead.monitoring.performance import labelled

    ref_scores = _scores(reference, classes, positive) if reference is not logged else scores
    if ref_scores is None or ref_scores.ndim != 1:
        return []
    out = []
    for variant in sorted({str(v) for v in logged.variants.tolist()}):
        ref_rows = (reference.variants == variant) & labelled(reference.labels)
        if not ref_rows.any():
            continue
        try:
            model = fit_cbpe(ref_scores[ref_rows], reference.labels[ref_rows],
                             predictions=reference.predictions[ref_rows], positive=positive)
        except InvalidParameter:
            continue  # one class only among the labels so far: nothing to calibrate on
        rows = logged.variants == variant
        for record in estimate_by_window(model, logged.timestamps[rows], scores[rows], window=window,
                                         predictions=logged.predictions[rows],
                                         variants=logged.variants[rows]):
            if (record.start, record.variant) in lagging:
                out.append(dataclasses.replace(record, extra={**record.extra, "n_reference": model.n_reference}))
    return out

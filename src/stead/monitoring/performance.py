"""Realized model performance once labels arrive: accuracy, F1 and ROC AUC for classifiers,
MAE and RMSE for regressors, per time window and per variant.

A window whose rows have no labels yet reports "no data" (``n == 0``, every metric
``None``), and a metric that is undefined on a window (ROC AUC with one class present, F1
with no positive label or prediction) is ``None`` too: a gauge fed from these records never
shows a number that was not measured. The formulas follow scikit-learn's (F1 macro over the
classes present for multiclass, ROC AUC from ranks with ties averaged), and the tests
check them against ``sklearn.metrics`` on the same data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from stead.errors import InvalidParameter
from stead.monitoring.stats import as_array, average_ranks

__all__ = [
    "Task",
    "PerformanceRecord",
    "accuracy",
    "f1",
    "roc_auc",
    "roc_auc_ovr",
    "mae",
    "rmse",
    "classification_metrics",
    "regression_metrics",
    "performance_by_window",
    "window_starts",
    "window_groups",
    "variant_names",
    "labelled",
]

Task = Literal["classification", "regression"]
CLASSIFICATION_METRICS = ("accuracy", "f1", "roc_auc")
REGRESSION_METRICS = ("mae", "rmse")


@dataclass(frozen=True)
class PerformanceRecord:
    """The performance of one variant over one window ``[start, end)`` (seconds since the
    epoch). ``estimated`` marks figures computed from predicted probabilities instead of
    labels (see ``stead.monitoring.estimation``)."""

    start: float
    end: float
    variant: str | None
    task: str
    n: int
    metrics: dict[str, float | None]
    estimated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def no_data(self) -> bool:
        return self.n == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "variant": self.variant,
            "task": self.task,
            "n": self.n,
            "metrics": dict(self.metrics),
            "estimated": self.estimated,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PerformanceRecord:
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            variant=data.get("variant"),
            task=str(data["task"]),
            n=int(data["n"]),
            metrics={str(k): (None if v is None else float(v)) for k, v in data["metrics"].items()},
            estimated=bool(data.get("estimated", False)),
            extra=dict(data.get("extra") or {}),
        )


def labelled(labels: Any) -> np.ndarray:
    """A boolean mask of the rows that have a label (not None, not NaN, not a pyarrow null)."""
    mask = None
    if hasattr(labels, "is_null") and not isinstance(labels, np.ndarray):
        mask = ~as_array(labels.is_null(), "labels", dtype=bool)
    array = as_array(labels, "labels")
    if mask is None:
        if array.dtype.kind == "f":
            mask = ~np.isnan(array)
        elif array.dtype.kind == "O":
            mask = np.array([not _missing(v) for v in array], dtype=bool)
        else:
            mask = np.ones(array.size, dtype=bool)
    return mask


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def accuracy(predictions: Any, labels: Any) -> float | None:
    """The share of predictions equal to their label; None on an empty window."""
    y_pred, y_true = _pair(predictions, labels)
    return float(np.mean(y_pred == y_true)) if y_true.size else None


def f1(
    predictions: Any, labels: Any, *, positive: Any = 1, classes: Sequence[Any] | None = None
) -> float | None:
    """Binary F1 of ``positive`` when there are at most two classes, else the macro mean of
    the per-class F1 over the classes present in labels or predictions (scikit-learn's
    ``average="macro"``). ``classes`` (all classes the model knows) decides binary or not,
    so that a window that happens to hold two of three classes is still scored as
    multiclass. None when undefined (no rows, or binary with no positive anywhere)."""
    y_pred, y_true = _pair(predictions, labels)
    if not y_true.size:
        return None
    present = np.unique(np.concatenate([y_true, y_pred]))
    known = present.tolist() if classes is None else list(dict.fromkeys(classes))
    if len(known) <= 2:
        if len(known) == 2 and not any(k == positive for k in known):
            raise InvalidParameter(
                f"binary F1 needs the positive class: the classes are {known} and"
                f" positive={positive!r}; pass positive= one of them"
            )
        tp = int(np.sum((y_pred == positive) & (y_true == positive)))
        fp = int(np.sum((y_pred == positive) & (y_true != positive)))
        fn = int(np.sum((y_pred != positive) & (y_true == positive)))
        return None if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
    scores = []
    for c in present:
        tp = int(np.sum((y_pred == c) & (y_true == c)))
        fp = int(np.sum((y_pred == c) & (y_true != c)))
        fn = int(np.sum((y_pred != c) & (y_true == c)))
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def roc_auc(scores: Any, labels: Any, *, positive: Any = 1) -> float | None:
    """Binary ROC AUC from the scores (probability of ``positive``): the Mann-Whitney
    statistic of the positives' scores over the negatives', ties counted as one half,
    which equals scikit-learn's trapezoidal area. None when only one class is present."""
    s = as_array(scores, "probabilities", dtype=float)
    y = as_array(labels, "labels")
    if s.size != y.size:
        raise InvalidParameter(f"probabilities and labels differ in length: {s.size} and {y.size}")
    is_pos = y == positive
    n_pos = int(is_pos.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    if not np.isfinite(s).all():
        raise InvalidParameter("probabilities must be finite numbers for ROC AUC")
    ranks, _ = average_ranks(s)
    return float((ranks[is_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_auc_ovr(scores: Any, labels: Any, classes: Sequence[Any]) -> float | None:
    """Multiclass ROC AUC, one class against the rest, macro mean (scikit-learn's
    ``multi_class="ovr"``): ``scores`` has one column per class, in the order of
    ``classes``. A class absent from the window's labels is left out of the mean (its
    AUC is undefined); None when no class has both positives and negatives."""
    s = np.asarray(scores.to_numpy() if hasattr(scores, "to_numpy") else scores, dtype=float)
    y = as_array(labels, "labels")
    names = list(classes)
    if s.ndim != 2 or s.shape != (y.size, len(names)):
        raise InvalidParameter(
            f"multiclass probabilities need one column per class: shape {s.shape}, {y.size} labels,"
            f" {len(names)} classes"
        )
    values = [roc_auc(s[:, i], y == c, positive=True) for i, c in enumerate(names)]
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


def mae(predictions: Any, labels: Any) -> float | None:
    """Mean absolute error; None on an empty window."""
    y_pred, y_true = _pair(predictions, labels, dtype=float)
    return float(np.mean(np.abs(y_pred - y_true))) if y_true.size else None


def rmse(predictions: Any, labels: Any) -> float | None:
    """Root mean squared error; None on an empty window."""
    y_pred, y_true = _pair(predictions, labels, dtype=float)
    return float(math.sqrt(np.mean((y_pred - y_true) ** 2))) if y_true.size else None


def classification_metrics(
    predictions: Any,
    labels: Any,
    probabilities: Any = None,
    *,
    positive: Any = 1,
    classes: Sequence[Any] | None = None,
) -> dict[str, float | None]:
    """Accuracy, F1 and, given probabilities, ROC AUC: binary from the probability of
    ``positive`` (one column), multiclass one-against-rest from one column per class in the
    order of ``classes`` (default: the sorted classes present)."""
    y_pred, y_true = _pair(predictions, labels)
    known = list(np.unique(np.concatenate([y_true, y_pred]))) if classes is None else list(classes)
    auc = None
    if probabilities is not None:
        if np.ndim(probabilities) == 2:
            auc = roc_auc_ovr(probabilities, y_true, known)
        elif len(known) <= 2:
            auc = roc_auc(probabilities, y_true, positive=positive)
    return {
        "accuracy": accuracy(y_pred, y_true),
        "f1": f1(y_pred, y_true, positive=positive, classes=classes),
        "roc_auc": auc,
    }


def regression_metrics(predictions: Any, labels: Any) -> dict[str, float | None]:
    """MAE and RMSE."""
    return {"mae": mae(predictions, labels), "rmse": rmse(predictions, labels)}


def window_starts(timestamps: np.ndarray, window: float, origin: float = 0.0) -> np.ndarray:
    """The start of the window each timestamp falls in: windows are ``[origin + k*window,
    origin + (k+1)*window)``, aligned to ``origin`` (default the epoch) so that two reports
    over the same period agree on their windows."""
    if not window > 0:
        raise InvalidParameter(f"the window length must be positive seconds, got {window}")
    return origin + np.floor((timestamps - origin) / window) * window


def performance_by_window(
    timestamps: Any,
    predictions: Any,
    labels: Any,
    *,
    window: float,
    task: Task = "classification",
    probabilities: Any = None,
    variants: Any = None,
    positive: Any = 1,
    classes: Sequence[Any] | None = None,
    start: float | None = None,
    end: float | None = None,
    origin: float = 0.0,
) -> list[PerformanceRecord]:
    """One record per (window, variant) that saw traffic, plus, when ``start``/``end`` are
    given, a "no data" record for every empty window between them. Rows without a label
    are traffic but not scored: a window of unlabelled rows reports ``n == 0``.
    Records come sorted by window start, then variant."""
    ts = as_array(timestamps, "timestamps", dtype=float)
    y_pred = as_array(predictions, "predictions")
    mask = labelled(labels)
    y_true = as_array(labels, "labels")
    proba = None if probabilities is None else _probabilities(probabilities)
    var = np.full(ts.size, None, dtype=object) if variants is None else as_array(variants, "variants")
    for name, column in (("predictions", y_pred), ("labels", y_true), ("variants", var)):
        if column.size != ts.size:
            raise InvalidParameter(f"{name} has {column.size} rows but timestamps has {ts.size}")
    if proba is not None and len(proba) != ts.size:
        raise InvalidParameter(f"probabilities has {len(proba)} rows but timestamps has {ts.size}")
    if task not in ("classification", "regression"):
        raise InvalidParameter(f"task must be classification or regression, got {task!r}")
    if task == "classification" and classes is None:
        classes = list(np.unique(np.concatenate([y_true[mask], y_pred[mask]])))
    starts = window_starts(ts, window, origin)
    if ts.size == 0 and (start is None or end is None):
        return []
    var_text = variant_names(var)
    records = []
    for (s, v), group in window_groups(starts, var_text, window, origin=origin, start=start, end=end):
        rows = group[mask[group]]
        n = int(rows.size)
        metrics: dict[str, float | None]
        if n == 0:
            names_ = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
            metrics = {m: None for m in names_}
        elif task == "classification":
            metrics = classification_metrics(
                y_pred[rows], y_true[rows], None if proba is None else proba[rows],
                positive=positive, classes=classes,
            )
        else:
            metrics = regression_metrics(y_pred[rows], y_true[rows])
        records.append(PerformanceRecord(s, s + window, v, task, n, metrics))
    return records


def variant_names(variants: np.ndarray) -> np.ndarray:
    """Variants as text (None stays None), for grouping."""
    if variants.dtype.kind in "US":
        return variants.astype(str).astype(object)
    return np.array([None if v is None else str(v) for v in variants], dtype=object)


def window_groups(
    starts: np.ndarray,
    variants: np.ndarray,
    window: float,
    *,
    origin: float = 0.0,
    start: float | None = None,
    end: float | None = None,
) -> list[tuple[tuple[float, str | None], np.ndarray]]:
    """The (window start, variant) pairs to report, sorted, each with its row indices:
    every pair seen in the data, and with ``start``/``end`` every window from the one
    holding ``start`` up to ``end`` for every variant seen (or ``None``), so that a window
    without traffic is reported too (with no rows). One sort, not one pass per pair."""
    window_values, window_code = np.unique(starts, return_inverse=True)
    names = sorted({v for v in variants}, key=_variant_order)
    variant_code = np.zeros(starts.size, dtype=np.int64)
    for i, name in enumerate(names[1:], start=1):
        variant_code[variants == name] = i
    codes = window_code.astype(np.int64) * max(1, len(names)) + variant_code
    order = np.argsort(codes, kind="stable")
    present, bounds = np.unique(codes[order], return_index=True)
    bounds = np.r_[bounds, codes.size]
    groups: dict[tuple[float, str | None], np.ndarray] = {}
    for i, code in enumerate(present.tolist()):
        key = (float(window_values[code // max(1, len(names))]), names[code % max(1, len(names))])
        groups[key] = order[bounds[i]:bounds[i + 1]]
    if start is not None or end is not None:
        if starts.size == 0 and (start is None or end is None):
            raise InvalidParameter("give both start and end to report windows without any traffic")
        low = float(start) if start is not None else float(starts.min())
        high = float(end) if end is not None else float(starts.max()) + window
        none = np.zeros(0, dtype=np.int64)
        for index in range(math.floor((low - origin) / window), math.ceil((high - origin) / window)):
            for name in names or [None]:
                groups.setdefault((origin + index * window, name), none)
    return sorted(groups.items(), key=lambda item: (item[0][0], *_variant_order(item[0][1])))


def _variant_order(variant: str | None) -> tuple[bool, str]:
    return (variant is not None, variant or "")


def _probabilities(values: Any) -> np.ndarray:
    """One probability per row (binary), or a row of one per class (a 2-D array, or a
    pyarrow list / fixed-size list column)."""
    if hasattr(values, "to_pylist") and hasattr(values, "type") and "list" in str(values.type):
        values = values.to_pylist()
    array = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=float)
    if array.ndim not in (1, 2):
        raise InvalidParameter(f"probabilities must be one per row or one row per class, got shape {array.shape}")
    return array


def _pair(predictions: Any, labels: Any, dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    y_pred = as_array(predictions, "predictions", dtype=dtype)
    y_true = as_array(labels, "labels", dtype=dtype)
    if y_pred.size != y_true.size:
        raise InvalidParameter(f"predictions and labels differ in length: {y_pred.size} and {y_true.size}")
    return y_pred, y_true

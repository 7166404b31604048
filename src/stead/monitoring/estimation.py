"""Estimated performance while labels lag: confidence-based performance estimation (CBPE,
as NannyML does it) for binary classifiers.

A reference window with labels calibrates the model's probabilities (isotonic regression);
on an unlabelled window each row then counts as "correct with probability p" and the
expected confusion matrix gives expected accuracy and F1, and the expected ROC curve (rows
ranked by the model's score, each contributing p of a positive and 1 - p of a negative)
gives expected ROC AUC. It is exact in expectation when the calibrated probabilities are
right, which survives covariate shift (the inputs move, P(y | score) does not) but not
concept drift: an estimate is a stand-in until labels arrive, and is marked ``estimated``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from stead.errors import InvalidParameter
from stead.monitoring.performance import (
    PerformanceRecord,
    classification_metrics,
    labelled,
    variant_names,
    window_groups,
    window_starts,
)
from stead.monitoring.stats import as_array

__all__ = ["Calibration", "CBPE", "fit_calibration", "fit_cbpe", "estimate_by_window"]


@dataclass(frozen=True)
class Calibration:
    """A monotone map from score to probability: linear between the knots, flat beyond
    them (scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``). Only the ends of
    each flat step are kept, so the map stays a few dozen numbers."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, scores: Any) -> np.ndarray:
        s = as_array(scores, "probabilities", dtype=float)
        return np.asarray(np.interp(s, np.asarray(self.x), np.asarray(self.y)), dtype=float)

    def to_json(self) -> dict[str, Any]:
        return {"x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        return cls(tuple(float(v) for v in data["x"]), tuple(float(v) for v in data["y"]))


def fit_calibration(scores: Any, outcomes: Any) -> Calibration:
    """Isotonic regression of the 0/1 ``outcomes`` on ``scores`` (pool-adjacent-violators,
    ``scipy.optimize.isotonic_regression``, over the distinct scores weighted by count)."""
    from scipy.optimize import isotonic_regression

    s = as_array(scores, "probabilities", dtype=float)
    y = as_array(outcomes, "labels", dtype=float)
    if s.size == 0 or s.size != y.size:
        raise InvalidParameter(
            f"calibration needs as many labels as probabilities, at least one: got {s.size} and {y.size}"
        )
    if not np.isfinite(s).all():
        raise InvalidParameter("probabilities must be finite numbers to calibrate them")
    distinct, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=y) / counts
    fitted = isotonic_regression(means, weights=counts.astype(float), increasing=True).x
    # keep a knot where the fitted value changes, on both sides of the change
    change = np.flatnonzero(np.diff(fitted) != 0)
    keep = np.unique(np.r_[0, change, change + 1, distinct.size - 1])
    return Calibration(tuple(map(float, distinct[keep])), tuple(map(float, fitted[keep])))


@dataclass(frozen=True)
class CBPE:
    """A fitted estimator: the calibration map, the decision threshold that turns a score
    into a predicted positive, and the realized figures on the reference window (to show
    beside the estimates)."""

    calibration: Calibration
    threshold: float
    positive: Any
    n_reference: int
    reference: dict[str, float | None]

    def estimate(self, scores: Any, predictions: Any = None) -> dict[str, float | None]:
        """Expected accuracy, F1 and ROC AUC of a window from its scores alone, and the
        standard deviation of the realized accuracy around the expected one
        (``accuracy_std``: each row is a coin with its own probability)."""
        s = as_array(scores, "probabilities", dtype=float)
        if s.size == 0:
            return {"accuracy": None, "f1": None, "roc_auc": None, "accuracy_std": None}
        p = self.calibration(s)
        predicted = self._predicted(s, predictions)
        correct = np.where(predicted, p, 1 - p)
        tp = float(p[predicted].sum())
        fp = float((1 - p[predicted]).sum())
        fn = float(p[~predicted].sum())
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else None
        return {
            "accuracy": float(correct.mean()),
            "f1": f1,
            "roc_auc": _expected_roc_auc(s, p),
            "accuracy_std": float(math.sqrt((correct * (1 - correct)).sum()) / s.size),
        }

    def _predicted(self, scores: np.ndarray, predictions: Any) -> np.ndarray:
        if predictions is None:
            return scores >= self.threshold
        pred = as_array(predictions, "predictions")
        if pred.size != scores.size:
            raise InvalidParameter(f"predictions has {pred.size} rows but probabilities has {scores.size}")
        return np.asarray(pred == self.positive, dtype=bool)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": "cbpe",
            "calibration": self.calibration.to_json(),
            "threshold": self.threshold,
            "positive": self.positive,
            "n_reference": self.n_reference,
            "reference": dict(self.reference),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CBPE:
        return cls(
            calibration=Calibration.from_json(data["calibration"]),
            threshold=float(data["threshold"]),
            positive=data["positive"],
            n_reference=int(data["n_reference"]),
            reference={str(k): (None if v is None else float(v)) for k, v in data["reference"].items()},
        )


def fit_cbpe(
    scores: Any, labels: Any, *, predictions: Any = None, threshold: float = 0.5, positive: Any = 1
) -> CBPE:
    """Fit CBPE on a labelled reference window: ``scores`` are the model's probabilities of
    ``positive``; predictions default to ``score >= threshold``. Rows without a label are
    left out."""
    s = as_array(scores, "probabilities", dtype=float)
    y = as_array(labels, "labels")
    if s.size != y.size:
        raise InvalidParameter(f"probabilities has {s.size} rows but labels has {y.size}")
    keep = labelled(labels)
    s, y = s[keep], y[keep]
    if predictions is not None:
        predictions = as_array(predictions, "predictions")
        if predictions.size != keep.size:
            raise InvalidParameter(f"predictions has {predictions.size} rows but labels has {keep.size}")
        predictions = predictions[keep]
    classes = set(np.unique(y).tolist())
    if len(classes) > 2 or (len(classes) == 2 and positive not in classes):
        raise InvalidParameter(
            f"CBPE estimates binary classifiers; the reference labels are {sorted(classes, key=str)}"
            f" and positive={positive!r}: pass the positive class as positive="
        )
    outcome = y == positive
    if outcome.all() or not outcome.any():
        raise InvalidParameter("the reference window needs labels of both classes to calibrate on")
    if not 0.0 <= threshold <= 1.0:
        raise InvalidParameter(f"the decision threshold must lie in [0, 1], got {threshold}")
    model = CBPE(fit_calibration(s, outcome), float(threshold), positive, int(s.size), {})
    predicted = model._predicted(s, predictions)
    reference = classification_metrics(predicted, outcome, s, positive=True, classes=[False, True])
    return CBPE(model.calibration, model.threshold, positive, model.n_reference, reference)


def estimate_by_window(
    model: CBPE,
    timestamps: Any,
    scores: Any,
    *,
    window: float,
    predictions: Any = None,
    variants: Any = None,
    start: float | None = None,
    end: float | None = None,
    origin: float = 0.0,
) -> list[PerformanceRecord]:
    """Estimated performance per (window, variant), marked ``estimated=True``; ``n`` counts
    the rows the estimate stands on, and the accuracy's standard deviation is in ``extra``.
    Windows as in ``performance_by_window`` (``start``/``end`` add the empty ones)."""
    ts = as_array(timestamps, "timestamps", dtype=float)
    s = as_array(scores, "probabilities", dtype=float)
    if s.size != ts.size:
        raise InvalidParameter(f"probabilities has {s.size} rows but timestamps has {ts.size}")
    pred = None if predictions is None else as_array(predictions, "predictions")
    if pred is not None and pred.size != ts.size:
        raise InvalidParameter(f"predictions has {pred.size} rows but timestamps has {ts.size}")
    var = np.full(ts.size, None, dtype=object) if variants is None else as_array(variants, "variants")
    if var.size != ts.size:
        raise InvalidParameter(f"variants has {var.size} rows but timestamps has {ts.size}")
    var = variant_names(var)
    starts = window_starts(ts, window, origin)
    if ts.size == 0 and (start is None or end is None):
        return []
    records = []
    for (first, variant), rows in window_groups(starts, var, window, origin=origin, start=start, end=end):
        figures = model.estimate(s[rows], None if pred is None else pred[rows])
        std = figures.pop("accuracy_std")
        records.append(
            PerformanceRecord(
                first, first + window, variant, "classification", int(rows.size), figures,
                estimated=True, extra={"accuracy_std": std, "method": "cbpe"},
            )
        )
    return records


def _expected_roc_auc(scores: np.ndarray, p: np.ndarray) -> float | None:
    """The area under the expected ROC curve: rows in decreasing score order, tied scores
    as one step, each row adding p expected positives and 1 - p expected negatives."""
    distinct, inverse = np.unique(-scores, return_inverse=True)
    pos = np.bincount(inverse, weights=p, minlength=distinct.size)
    neg = np.bincount(inverse, weights=1 - p, minlength=distinct.size)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return None
    tpr = np.r_[0.0, np.cumsum(pos) / total_pos]
    fpr = np.r_[0.0, np.cumsum(neg) / total_neg]
    return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))

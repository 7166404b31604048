"""Monitoring: reference statistics computed once from training data, data drift per
feature and for the prediction (the tests Evidently chooses, computed from compact
statistics), and a multivariate signal (PCA reconstruction error, as NannyML computes it).

``import stead.monitoring`` is light; numpy, pyarrow and scipy load on first use::

    from stead.monitoring import compute_reference, detect_drift
    ref = compute_reference("train.parquet", prediction="score")    # kilobytes, JSON-able
    report = detect_drift(ref, "window.parquet")
    report.dataset_drift, report.feature("age").score

Live performance per window and variant (``performance_by_window``), estimated
performance while labels lag (``fit_cbpe``, ``estimate_by_window``), the canary judge
(``latency_check``, ``error_rate_check``, ``accuracy_check``, ``prediction_drift_check``,
``canary_verdict``) and the A/B verdict (``ab_report``) are pure functions over arrays too.
Labels that arrive later (``log_labels``) join the prediction log by request id, and
``live_performance`` scores a deployment's log per window and variant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead._lazy import lazy_exports

if TYPE_CHECKING:
    from stead.monitoring.abtest import ABReport, ab_report
    from stead.monitoring.drift import DriftReport, FeatureDrift, detect_drift
    from stead.monitoring.estimation import CBPE, estimate_by_window, fit_cbpe
    from stead.monitoring.judge import (
        Analysis,
        CheckResult,
        accuracy_check,
        canary_verdict,
        error_rate_check,
        latency_check,
        prediction_drift_check,
    )
    from stead.monitoring.labels import LabelReceipt, log_labels
    from stead.monitoring.live import live_performance
    from stead.monitoring.multivariate import MultivariateDrift, PCAModel
    from stead.monitoring.performance import (
        PerformanceRecord,
        classification_metrics,
        performance_by_window,
        regression_metrics,
    )
    from stead.monitoring.reference import (
        CategoricalColumn,
        NumericColumn,
        ReferenceStats,
        compute_reference,
    )

__all__ = [
    "ReferenceStats",
    "NumericColumn",
    "CategoricalColumn",
    "compute_reference",
    "DriftReport",
    "FeatureDrift",
    "detect_drift",
    "PCAModel",
    "MultivariateDrift",
    "PerformanceRecord",
    "performance_by_window",
    "classification_metrics",
    "regression_metrics",
    "CBPE",
    "fit_cbpe",
    "estimate_by_window",
    "CheckResult",
    "Analysis",
    "latency_check",
    "error_rate_check",
    "accuracy_check",
    "prediction_drift_check",
    "canary_verdict",
    "ABReport",
    "ab_report",
    "LabelReceipt",
    "log_labels",
    "live_performance",
]

_LAZY = {
    "ReferenceStats": "stead.monitoring.reference",
    "NumericColumn": "stead.monitoring.reference",
    "CategoricalColumn": "stead.monitoring.reference",
    "compute_reference": "stead.monitoring.reference",
    "DriftReport": "stead.monitoring.drift",
    "FeatureDrift": "stead.monitoring.drift",
    "detect_drift": "stead.monitoring.drift",
    "PCAModel": "stead.monitoring.multivariate",
    "MultivariateDrift": "stead.monitoring.multivariate",
    "PerformanceRecord": "stead.monitoring.performance",
    "performance_by_window": "stead.monitoring.performance",
    "classification_metrics": "stead.monitoring.performance",
    "regression_metrics": "stead.monitoring.performance",
    "CBPE": "stead.monitoring.estimation",
    "fit_cbpe": "stead.monitoring.estimation",
    "estimate_by_window": "stead.monitoring.estimation",
    "CheckResult": "stead.monitoring.judge",
    "Analysis": "stead.monitoring.judge",
    "latency_check": "stead.monitoring.judge",
    "error_rate_check": "stead.monitoring.judge",
    "accuracy_check": "stead.monitoring.judge",
    "prediction_drift_check": "stead.monitoring.judge",
    "canary_verdict": "stead.monitoring.judge",
    "ABReport": "stead.monitoring.abtest",
    "ab_report": "stead.monitoring.abtest",
    "LabelReceipt": "stead.monitoring.labels",
    "log_labels": "stead.monitoring.labels",
    "live_performance": "stead.monitoring.live",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

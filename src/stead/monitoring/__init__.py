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

Scheduled monitors (``create_monitor``, ``list_monitors``, ``get_monitor``,
``delete_monitor``; their runs ``list_monitor_runs``, their alert events ``list_alerts``),
the Prometheus alert rules (``alert_rules``, ``rule_groups``, ``write_rules``) and
progressive rollouts (``start_rollout``, ``pause_rollout``, ``resume_rollout``,
``abort_rollout``, ``current_rollout``, ``rollout_history``) keep their records in the
metadata store; the stead server runs the due monitors and rollout decisions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead._lazy import lazy_exports

if TYPE_CHECKING:
    from stead.monitoring.abtest import ABReport, ab_report
    from stead.monitoring.actions import AlertRecord
    from stead.monitoring.actions import list_events as list_alerts
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
    from stead.monitoring.labels import read_labels
    from stead.monitoring.live import live_performance
    from stead.monitoring.monitors import Monitor, delete_monitor, list_monitors
    from stead.monitoring.monitors import create as create_monitor
    from stead.monitoring.monitors import get as get_monitor
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
    from stead.monitoring.rollout import Decision, Rollout
    from stead.monitoring.rollout import abort as abort_rollout
    from stead.monitoring.rollout import current as current_rollout
    from stead.monitoring.rollout import history as rollout_history
    from stead.monitoring.rollout import pause as pause_rollout
    from stead.monitoring.rollout import resume as resume_rollout
    from stead.monitoring.rollout import start as start_rollout
    from stead.monitoring.rules import alert_rules, rule_groups, write_rules
    from stead.monitoring.run_monitor import MonitorRun
    from stead.monitoring.run_monitor import list_runs as list_monitor_runs

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
    "read_labels",
    "Monitor",
    "create_monitor",
    "list_monitors",
    "get_monitor",
    "delete_monitor",
    "MonitorRun",
    "list_monitor_runs",
    "AlertRecord",
    "list_alerts",
    "alert_rules",
    "rule_groups",
    "write_rules",
    "Rollout",
    "Decision",
    "start_rollout",
    "pause_rollout",
    "resume_rollout",
    "abort_rollout",
    "current_rollout",
    "rollout_history",
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
    "read_labels": "stead.monitoring.labels",
    "Monitor": "stead.monitoring.monitors",
    "create_monitor": "stead.monitoring.monitors",
    "list_monitors": "stead.monitoring.monitors",
    "get_monitor": "stead.monitoring.monitors",
    "delete_monitor": "stead.monitoring.monitors",
    "MonitorRun": "stead.monitoring.run_monitor",
    "list_monitor_runs": "stead.monitoring.run_monitor",
    "AlertRecord": "stead.monitoring.actions",
    "list_alerts": "stead.monitoring.actions",
    "alert_rules": "stead.monitoring.rules",
    "rule_groups": "stead.monitoring.rules",
    "write_rules": "stead.monitoring.rules",
    "Rollout": "stead.monitoring.rollout",
    "Decision": "stead.monitoring.rollout",
    "start_rollout": "stead.monitoring.rollout",
    "pause_rollout": "stead.monitoring.rollout",
    "resume_rollout": "stead.monitoring.rollout",
    "abort_rollout": "stead.monitoring.rollout",
    "current_rollout": "stead.monitoring.rollout",
    "rollout_history": "stead.monitoring.rollout",
}
_ALIASES = {
    "create_monitor": "create", "get_monitor": "get", "list_monitor_runs": "list_runs", "list_alerts": "list_events",
    "start_rollout": "start", "pause_rollout": "pause", "resume_rollout": "resume", "abort_rollout": "abort",
    "current_rollout": "current", "rollout_history": "history",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, aliases=_ALIASES)

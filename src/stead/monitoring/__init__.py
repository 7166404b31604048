"""Monitoring: reference statistics computed once from training data, data drift per
feature and for the prediction (the tests Evidently chooses, computed from compact
statistics), and a multivariate signal (PCA reconstruction error, as NannyML computes it).

``import stead.monitoring`` is light; numpy, pyarrow and scipy load on first use::

    from stead.monitoring import compute_reference, detect_drift
    ref = compute_reference("train.parquet", prediction="score")    # kilobytes, JSON-able
    report = detect_drift(ref, "window.parquet")
    report.dataset_drift, report.feature("age").score
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead._lazy import lazy_exports

if TYPE_CHECKING:
    from stead.monitoring.drift import DriftReport, FeatureDrift, detect_drift
    from stead.monitoring.multivariate import MultivariateDrift, PCAModel
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
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

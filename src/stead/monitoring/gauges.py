"""The monitors' figures as Prometheus gauges, read from the store.

The stead server's ``/metrics`` renders ``render(store)``: for each deployment, the figures of
its newest monitor run (``monitor_runs``), so every server replica exports the same values
whichever ran the check. A deployment whose newest run measured nothing (no traffic in the
window, no reference statistics, a failure) exports no gauge at all: an old figure would
claim what the last check could not see. The names and labels are those the alert rules of
``stead.monitoring.rules`` read:

- ``stead_drift_score{deployment,feature,test}``: each tested column's p-value or distance;
- ``stead_drift_detected{deployment}``: 1 when the data drifted, else 0;
- ``stead_model_performance{deployment,variant,metric,estimated}``: live accuracy, F1, ROC AUC
  (``estimated="true"`` for CBPE's estimates while labels lag);
- ``stead_monitor_last_run_timestamp_seconds{deployment,monitor,status}``: when the newest run
  ended its window, with its status (set whatever the status).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stead.store.engine import Store

__all__ = ["families", "render", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def families(store: Store) -> list[Any]:
    """The gauge families (``prometheus_client`` metric families) of the newest runs."""
    from prometheus_client.core import GaugeMetricFamily

    from stead.monitoring.run_monitor import MEASURED, latest_runs

    newest: dict[str, Any] = {}
    for run in latest_runs(store):
        if run.deployment not in newest or run.time > newest[run.deployment].time:
            newest[run.deployment] = run
    score = GaugeMetricFamily("stead_drift_score", "Drift test score of a column (p-value or distance)",
                              labels=["deployment", "feature", "test"])
    detected = GaugeMetricFamily("stead_drift_detected", "1 when the deployment's data drifted in the last window",
                                 labels=["deployment"])
    perf = GaugeMetricFamily("stead_model_performance", "Live (or estimated) performance of a variant",
                             labels=["deployment", "variant", "metric", "estimated"])
    last = GaugeMetricFamily("stead_monitor_last_run_timestamp_seconds", "End of the newest monitor run's window",
                             labels=["deployment", "monitor", "status"])
    for name, run in sorted(newest.items()):
        last.add_metric([name, run.monitor, run.status], run.time / 1000)
        if run.status not in MEASURED:
            continue
        drift = run.summary.get("drift") or {}
        for f in drift.get("features", []):
            if f.get("status") == "ok" and isinstance(f.get("score"), (int, float)) and f.get("test"):
                score.add_metric([name, f["column"], f["test"]], float(f["score"]))
        if drift.get("dataset_drift") is not None:
            detected.add_metric([name], 1.0 if drift["dataset_drift"] else 0.0)
        for p in run.summary.get("performance", []):
            perf.add_metric([name, str(p.get("variant") or ""), p["metric"], "true" if p["estimated"] else "false"],
                            float(p["value"]))
    return [score, detected, perf, last]


class _Collector:
    def __init__(self, found: list[Any]) -> None:
        self._found = found

    def collect(self) -> Iterator[Any]:
        yield from self._found


def render(store: Store) -> bytes:
    """The Prometheus text exposition (format 0.0.4) of ``families(store)``."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(families(store)))  # type: ignore[arg-type]
    return generate_latest(registry)

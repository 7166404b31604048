"""One run of a monitor: the deployment's last window checked, the report stored, alerts raised.

``run_monitor`` reads the window of the deployment's prediction log that ends at ``now``,
measures its drift against the reference statistics of the model version the deployment's
primary variant serves (``stead.monitoring.references.ensure``: stored, or computed from the
dataset version its run trained on), and its live (and, while labels lag, estimated)
performance (``stead.monitoring.live.measure``). The report goes to the artifact store as
``monitoring/<monitor>/<time>/report.json`` and ``report.html`` (one offline page, inline
SVG), and a row of ``monitor_runs`` keeps its summary, from which the server's ``/metrics``
exports the gauges (``stead.monitoring.gauges``).

Statuses: ``ok``; ``alert`` (the data drifted or a metric is below the monitor's minimum:
an alert event is recorded and the monitor's action performed); ``no_data`` (no traffic in
the window: nothing is measured and no gauge is set); ``no_reference`` (the model version
has no reference statistics: the message says how to make them); ``failed`` (the
deployment or its model could not be read: the message says why).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from stead.errors import SteadError
from stead.monitoring.tables import monitor_runs
from stead.store.engine import Store

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.monitoring.monitors import Monitor

__all__ = ["MonitorRun", "run_monitor", "list_runs", "latest_runs", "limit_alerts", "MEASURED"]

_T = monitor_runs
MEASURED = ("ok", "alert")  # the statuses whose figures are gauges


@dataclass(frozen=True)
class MonitorRun:
    id: int
    monitor: str
    deployment: str
    time: int  # ms: the end of the window
    status: str
    report_uri: str | None
    summary: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_monitor(settings: "Settings", store: Store, artifacts: Any, monitor: "Monitor", *,
                now: float | None = None, act: bool = True) -> MonitorRun:
    """Check ``monitor``'s deployment over the window ending at ``now`` (default: now), store
    the run and its report; with ``act``, record an alert and perform the action on alert."""
    end = time.time() if now is None else float(now)
    start = end - monitor.window_s
    summary: dict[str, Any] = {"monitor": monitor.name, "deployment": monitor.deployment,
                               "window": {"start": start, "end": end, "start_iso": _iso(start), "end_iso": _iso(end)},
                               "model": None, "rows": 0, "drift": None, "performance": [], "alerts": []}
    charts: dict[str, Any] = {}
    try:
        status, message = _measure(settings, store, artifacts, monitor, start, end, summary, charts)
    except SteadError as exc:
        status, message = "failed", str(exc)
    except Exception as exc:  # a log file that cannot be read, say: the run says so, the schedule goes on
        status, message = "failed", f"{type(exc).__name__}: {exc}"
    summary["status"], summary["message"] = status, message
    report_uri = _store_report(artifacts, monitor, end, summary, charts)
    run = _save(store, monitor, end, status, report_uri, summary)
    if act:
        _raise_alerts(settings, store, monitor, run)
    return run


def _measure(settings: "Settings", store: Store, artifacts: Any, monitor: "Monitor", start: float, end: float,
             summary: dict[str, Any], charts: dict[str, Any]) -> tuple[str, str]:
    from stead.errors import NotFound
    from stead.monitoring import references
    from stead.monitoring.columns import open_columns
    from stead.monitoring.drift import detect_drift
    from stead.monitoring.report_html import histograms
    from stead.monitoring.sources import window_source
    from stead.registry.service import Registry
    from stead.serving.deployments import Deployments

    deployment = Deployments(store).get(monitor.deployment)
    variant = deployment.primary()
    version = references.resolve_version(Registry(store, settings.resolved_artifacts_url), variant.model)
    summary["model"] = f"{version.name}/{version.version}"
    summary["trained_on"] = references.training_dataset(version)
    try:
        ref = references.ensure(store, version, settings=settings).stats
    except NotFound as exc:
        return "no_reference", str(exc)
    cur = window_source(artifacts, monitor.deployment, monitor.window_s, end=end, prediction=ref.prediction,
                        names=ref.features)
    cols = open_columns(cur.data)
    summary["rows"] = int(cols.num_rows)
    if not summary["rows"]:
        return "no_data", (f"no data: deployment {monitor.deployment} answered no requests from "
                           f"{_iso(start)} to {_iso(end)}; nothing was measured")
    names = list(ref.columns)
    if ref.prediction is not None and ref.prediction not in cols.names:
        names.remove(ref.prediction)
    report = detect_drift(ref, cols, drift_share=monitor.drift_share, columns=names)
    tested = [f for f in (*report.features, *([report.prediction] if report.prediction else []))]
    summary["drift"] = {
        "dataset_drift": report.dataset_drift, "drifted": report.drifted_features,
        "tested": report.tested_features, "share": report.share_drifted, "drift_share": monitor.drift_share,
        "features": [{"column": f.column, "status": f.status, "test": f.test, "score": _num(f.score),
                      "threshold": f.threshold, "drifted": f.drifted, "psi": _num(f.psi),
                      "prediction": report.prediction is not None and f.column == report.prediction.column,
                      "message": f.message} for f in tested],
        "multivariate": None if report.multivariate is None else report.multivariate.to_json(),
    }
    charts.update(histograms(ref, cols, [f.column for f in tested if f.status == "ok"]))
    summary["performance"], perf_note = _performance(artifacts, monitor, start, end)
    alerts = []
    if report.dataset_drift:
        alerts.append(f"SteadDataDrift: {report.drifted_features} of {report.tested_features} features drifted "
                      f"(at least {monitor.drift_share:g} of them drift the data)")
    alerts += limit_alerts(summary["performance"], monitor.minimums)
    summary["alerts"] = alerts
    verdict = "drift" if report.dataset_drift else "no drift"
    message = f"{summary['rows']} rows; {verdict} ({report.drifted_features} of {report.tested_features} features)"
    if perf_note:
        message += f"; {perf_note}"
    return ("alert" if alerts else "ok"), message


def limit_alerts(performance: list[dict[str, Any]], limits: Mapping[str, float]) -> list[str]:
    """An alert for each figure of ``performance`` past its limit: below the minimum of a metric
    where higher is better (accuracy, f1, roc_auc), above the maximum of an error (mae, rmse)."""
    from stead.monitoring.monitors import MAXIMA

    alerts = []
    for p in performance:
        limit = limits.get(p["metric"])
        if limit is None:
            continue
        highest = p["metric"] in MAXIMA
        if not (p["value"] > limit if highest else p["value"] < limit):
            continue
        name = "SteadModelPerformanceEstimatedLow" if p["estimated"] else "SteadModelPerformanceLow"
        alerts.append(f"{name}: {'estimated ' if p['estimated'] else ''}{p['metric']} of variant "
                      f"{p['variant']} is {p['value']:.4g}, {'above the maximum' if highest else 'below the minimum'} "
                      f"{limit:g}")
    return alerts


def _num(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return str(v)
    return v


def _performance(artifacts: Any, monitor: "Monitor", start: float, end: float) -> tuple[list[dict[str, Any]], str]:
    """One figure per variant, metric and kind (realized, estimated) over the window: of the
    epoch-aligned windows ``measure`` reports, the one with the most scored rows."""
    from stead.monitoring.live import measure

    try:
        records = measure(artifacts, monitor.deployment, window=monitor.window_s, start=start, end=end)
    except SteadError as exc:
        return [], f"performance not measured: {exc}"
    best: dict[tuple[Any, bool], Any] = {}
    for r in records:
        if not any(v is not None for v in r.metrics.values()) or (not r.estimated and r.n == 0):
            continue
        key = (r.variant, r.estimated)
        if key not in best or r.n > best[key].n:
            best[key] = r
    out = [{"variant": r.variant, "metric": m, "value": float(v), "estimated": r.estimated, "n": r.n}
           for (_, _), r in sorted(best.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
           for m, v in r.metrics.items() if v is not None]
    return out, "" if out else "no labels yet: performance not measured"


def _store_report(artifacts: Any, monitor: "Monitor", end: float, summary: dict[str, Any],
                  charts: Mapping[str, Any]) -> str | None:
    from stead.monitoring.report_html import render

    stamp = dt.datetime.fromtimestamp(end, dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    folder = f"monitoring/{monitor.name}/{stamp}"
    summary["report"] = f"{folder}/report.json"
    summary["html"] = f"{folder}/report.html"
    body = {**summary, "charts": charts}
    artifacts.put_bytes(json.dumps(body, allow_nan=False, default=str, indent=1).encode(), summary["report"])
    artifacts.put_bytes(render(summary, charts).encode(), summary["html"])
    return str(artifacts.uri_for(summary["html"]))


def _save(store: Store, monitor: "Monitor", end: float, status: str, report_uri: str | None,
          summary: dict[str, Any]) -> MonitorRun:
    row = {"monitor": monitor.name, "deployment": monitor.deployment, "time": int(end * 1000), "status": status,
           "report_uri": report_uri, "summary": json.dumps(summary, allow_nan=False, default=str)}
    with store.write() as conn:
        done = conn.execute(_T.insert().returning(_T.c.id), [row]).first()
    assert done is not None
    return MonitorRun(int(done[0]), monitor.name, monitor.deployment, row["time"], status, report_uri, summary)


def _previous(store: Store, monitor: str, before_id: int) -> MonitorRun | None:
    """The newest earlier run that reached a verdict (alert or ok): a run without traffic or
    without reference statistics says nothing of whether an alert still fires."""
    for run in list_runs(store, monitor, limit=20):
        if run.id != before_id and run.status in ("alert", "ok"):
            return run
    return None


def _raise_alerts(settings: "Settings", store: Store, monitor: "Monitor", run: MonitorRun) -> None:
    from stead.monitoring.actions import perform, record_event

    summary = run.summary
    if run.status == "alert":
        names = [a.split(":", 1)[0] for a in summary["alerts"]]
        labels = {"alertname": names[0], "deployment": monitor.deployment, "monitor": monitor.name,
                  "severity": "warning" if names[0] != "SteadModelPerformanceLow" else "critical"}
        annotations = {"summary": "; ".join(summary["alerts"]), "report": summary.get("html") or ""}
        before = _previous(store, monitor.name, run.id)
        if before is not None and before.status == "alert" and before.summary.get("model") == summary.get("model"):
            # still firing for the same model: acted on when it started (a retraining in flight is not started twice)
            record_event(store, source="monitor", name=names[0], status="firing", deployment=monitor.deployment,
                         monitor=monitor.name, labels=labels, annotations=annotations, time_ms=run.time,
                         result=f"still firing since {_iso(before.time / 1000)}; its action ran when it started")
            return
        event = record_event(store, source="monitor", name=names[0], status="firing",
                             deployment=monitor.deployment, monitor=monitor.name, labels=labels,
                             annotations=annotations, time_ms=run.time, action=monitor.on_alert)
        alert = {"source": "monitor", "status": "firing", "alert": names[0], "alertnames": names,
                 "deployment": monitor.deployment, "monitor": monitor.name, "model": summary.get("model"),
                 "trained_on": summary.get("trained_on"), "alerts": summary["alerts"],
                 "report": run.report_uri, "time": run.time}
        perform(settings, store, monitor, alert, event)
    elif run.status == "ok":
        before = _previous(store, monitor.name, run.id)
        if before is not None and before.status == "alert":
            name = before.summary["alerts"][0].split(":", 1)[0] if before.summary.get("alerts") else "SteadMonitor"
            record_event(store, source="monitor", name=name, status="resolved", deployment=monitor.deployment,
                         monitor=monitor.name, labels={"alertname": name, "deployment": monitor.deployment,
                                                       "monitor": monitor.name},
                         annotations={"summary": run.summary.get("message", "")}, time_ms=run.time)


def _record(row: Any) -> MonitorRun:
    return MonitorRun(int(row.id), row.monitor, row.deployment, int(row.time), row.status, row.report_uri,
                      json.loads(row.summary))


def list_runs(store: Store, monitor: str, *, limit: int = 20) -> list[MonitorRun]:
    """``monitor``'s runs, newest first."""
    with store.read() as conn:
        rows = conn.execute(select(_T).where(_T.c.monitor == monitor)
                            .order_by(_T.c.time.desc(), _T.c.id.desc()).limit(limit)).all()
    return [_record(r) for r in rows]


def latest_runs(store: Store) -> list[MonitorRun]:
    """Each monitor's newest run (whatever its status), from the store: what every server
    replica exports alike."""
    from sqlalchemy import func

    newest = select(_T.c.monitor, func.max(_T.c.id).label("id")).group_by(_T.c.monitor).subquery()
    with store.read() as conn:
        rows = conn.execute(select(_T).join(newest, _T.c.id == newest.c.id).order_by(_T.c.monitor)).all()
    return [_record(r) for r in rows]

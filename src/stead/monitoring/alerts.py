"""Alertmanager's alerts recorded as alert events, and the monitors' actions they start.

A firing alert names the monitors whose action it performs by its labels: ``monitor`` names
one (it must watch the alert's ``deployment``, when the alert has that label too); without
it, ``deployment`` names every monitor of that deployment, each distinct action once. A
resolved alert is recorded and starts nothing, and so is a firing alert already recorded
(Alertmanager repeats a notification every ``repeat_interval`` while the alert fires: the
same labels and ``startsAt``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from stead.monitoring.actions import perform, record_event, set_result
from stead.monitoring.tables import alert_events
from stead.store.engine import Store

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.monitoring.monitors import Monitor

__all__ = ["record_notification"]

_T = alert_events


def _matching(store: Store, labels: Mapping[str, str]) -> list["Monitor"]:
    """The monitors an Alertmanager alert names: its ``monitor`` label, else every monitor of
    its ``deployment`` label (one per distinct action)."""
    from stead.errors import NotFound
    from stead.monitoring.monitors import get, list_monitors

    if labels.get("monitor"):
        try:
            found = [get(store, labels["monitor"])]
        except NotFound:
            return []
        return [m for m in found if not labels.get("deployment") or m.deployment == labels["deployment"]]
    if not labels.get("deployment"):
        return []
    seen: set[str] = set()
    out = []
    for m in list_monitors(store, labels["deployment"]):
        if m.on_alert and m.on_alert not in seen:
            seen.add(m.on_alert)
            out.append(m)
    return out


def _repeat(store: Store, name: str, labels_json: str, starts_ms: int) -> int | None:
    """The event already recorded for this firing alert (Alertmanager repeats a notification
    every repeat_interval while the alert fires), or None."""
    with store.read() as conn:
        row = conn.execute(select(_T.c.id).where(_T.c.source == "alertmanager", _T.c.name == name,
                                                 _T.c.status == "firing", _T.c.time == starts_ms,
                                                 _T.c.labels == labels_json).order_by(_T.c.id).limit(1)).first()
    return None if row is None else int(row[0])


def record_notification(settings: "Settings", store: Store, note: Any) -> list[dict[str, Any]]:
    """Record each alert of an Alertmanager notification (``stead.monitoring.alertmanager``)
    as an alert event, and perform the action of the monitors a firing alert names (see
    ``_matching``) once per alert: a repeated notification of an alert already acted on is
    recorded again and starts nothing. What was done, one dict per alert."""
    from stead.monitoring.run_monitor import list_runs

    out = []
    for alert in note.alerts:
        labels_json = json.dumps(dict(alert.labels), sort_keys=True)
        starts_ms = int(alert.starts_at.timestamp() * 1000)
        earlier = _repeat(store, alert.name, labels_json, starts_ms) if alert.status == "firing" else None
        monitors = _matching(store, alert.labels) if alert.status == "firing" and earlier is None else []
        event = record_event(store, source="alertmanager", name=alert.name, status=alert.status,
                             deployment=alert.deployment, monitor=monitors[0].name if monitors else None,
                             labels=alert.labels, annotations=alert.annotations, time_ms=starts_ms,
                             result=f"repeat of event {earlier}: no new action" if earlier is not None else None)
        results = []
        for m in monitors:
            runs = list_runs(store, m.name, limit=1)
            context = {**alert.to_json(), "source": "alertmanager", "alert": alert.name, "deployment": m.deployment,
                       "trained_on": runs[0].summary.get("trained_on") if runs else None}
            results.append({"monitor": m.name, "action": m.on_alert, "result": perform(settings, store, m, context,
                                                                                       event)})
        if len(results) > 1:
            set_result(store, event, "; ".join(str(r["action"]) for r in results),
                        "; ".join(f"{r['monitor']}: {r['result']}" for r in results))
        out.append({"event": event, "alert": alert.name, "status": alert.status, "deployment": alert.deployment,
                    "actions": results})
    return out

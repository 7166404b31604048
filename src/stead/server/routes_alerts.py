"""Alertmanager's webhook under ``/api/stead/v1/``:

    POST /api/stead/v1/alerts   Alertmanager's webhook payload (version 4)
                                -> {"receiver", "status", "group_key", "alerts", "firing",
                                    "resolved", "truncated_alerts", "alertnames", "deployments",
                                    "recorded"}

Point an Alertmanager receiver at it (``webhook_config: url: http://stead:5000/api/stead/v1/alerts``,
with ``http_config`` credentials when the server runs with ``--auth``). The payload is checked
whole (a wrong field is a 400 naming it) and each alert is one line of the server's log
(``stead.logs.say``: stdout as text, or a JSON line with ``--log-format json``). Each alert
is recorded in ``alert_events`` (``"recorded": true``), and a firing alert whose labels name a
monitor (``monitor``) or a deployment with monitors (``deployment``) performs those monitors'
``on_alert`` action once (``stead.monitoring.alerts.record_notification``); the answer
lists them under ``actions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stead.server.endpoint import AUTHENTICATED, ApiCall, Endpoint

if TYPE_CHECKING:
    from stead.server.context import ServerContext

__all__ = ["ENDPOINTS"]


def post_alerts(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    from stead.logs import say
    from stead.monitoring.alerts import record_notification
    from stead.monitoring.alertmanager import parse_notification

    note = parse_notification(call.params)
    for alert in note.alerts:
        summary = alert.annotations.get("summary", "")
        say("stead.server", f"alert {alert.status}: {alert.name}"
            + (f" on deployment {alert.deployment}" if alert.deployment else "") + (f": {summary}" if summary else ""),
            alert=alert.name, status=alert.status, deployment=alert.deployment, fingerprint=alert.fingerprint,
            receiver=note.receiver)
    done = record_notification(ctx.settings, ctx.store, note)
    actions = [{"event": d["event"], "alert": d["alert"], **a} for d in done for a in d["actions"]]
    return {**note.summary(), "recorded": True, "events": [d["event"] for d in done], "actions": actions}


ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/alerts", post_alerts, AUTHENTICATED,
             "Receive Alertmanager's webhook (payload version 4): the alerts are checked, logged, recorded, and "
             "a firing alert naming a monitored deployment performs the monitor's action",
             request_fields=("version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
                             "commonLabels", "commonAnnotations", "externalURL", "alerts"),
             response_fields=("receiver", "status", "group_key", "alerts", "firing", "resolved", "truncated_alerts",
                              "alertnames", "deployments", "recorded", "events", "actions")),
]

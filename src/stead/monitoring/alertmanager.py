"""Alertmanager's webhook payload (``webhook_config``, payload version 4), read and checked.

Alertmanager POSTs one notification per alert group::

    {"version": "4", "groupKey": "...", "truncatedAlerts": 0, "status": "firing",
     "receiver": "stead", "groupLabels": {...}, "commonLabels": {...},
     "commonAnnotations": {...}, "externalURL": "http://alertmanager:9093",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...},
                 "startsAt": "<RFC 3339>", "endsAt": "<RFC 3339>",
                 "generatorURL": "...", "fingerprint": "..."}]}

``parse_notification`` turns it into an ``AlertNotification`` of ``AlertEvent``s, or raises
``InvalidParameter`` naming the first field that is wrong (nothing is taken from a payload
that is wrong anywhere). ``endsAt`` of a firing alert is Alertmanager's zero time
(``0001-01-01T00:00:00Z``) or the time it will resolve on its own; the zero time reads as
``None``. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stead.errors import InvalidParameter

__all__ = ["AlertEvent", "AlertNotification", "parse_notification", "VERSION"]

VERSION = "4"
_STATUSES = ("firing", "resolved")


@dataclass(frozen=True)
class AlertEvent:
    """One alert of a notification: ``name`` is its ``alertname`` label, ``deployment`` its
    ``deployment`` label (``None`` when it has none: not about a stead deployment)."""

    status: str
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    fingerprint: str
    generator_url: str = ""

    @property
    def deployment(self) -> str | None:
        return self.labels.get("deployment")

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "name": self.name, "deployment": self.deployment, "labels": self.labels,
                "annotations": self.annotations, "starts_at": self.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat() if self.ends_at else None, "fingerprint": self.fingerprint,
                "generator_url": self.generator_url}


@dataclass(frozen=True)
class AlertNotification:
    """One webhook call: an alert group and its alerts."""

    receiver: str
    status: str
    group_key: str
    alerts: tuple[AlertEvent, ...]
    group_labels: dict[str, str] = field(default_factory=dict)
    common_labels: dict[str, str] = field(default_factory=dict)
    common_annotations: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    truncated_alerts: int = 0

    def summary(self) -> dict[str, Any]:
        """What arrived, in counts and names (the webhook's answer)."""
        firing = [a for a in self.alerts if a.status == "firing"]
        return {
            "receiver": self.receiver, "status": self.status, "group_key": self.group_key,
            "alerts": len(self.alerts), "firing": len(firing), "resolved": len(self.alerts) - len(firing),
            "truncated_alerts": self.truncated_alerts,
            "alertnames": sorted({a.name for a in self.alerts}),
            "deployments": sorted({a.deployment for a in self.alerts if a.deployment}),
        }


def _str(value: Any, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidParameter(f"Alertmanager payload: {where} must be a string, not {type(value).__name__}")
    return value


def _labels(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParameter(f"Alertmanager payload: {where} must be an object of strings, not "
                               f"{type(value).__name__}")
    for k, v in value.items():
        if not isinstance(v, str):
            raise InvalidParameter(f"Alertmanager payload: {where}.{k} must be a string, not {type(v).__name__}")
    return dict(value)


def _status(value: Any, where: str) -> str:
    if value not in _STATUSES:
        raise InvalidParameter(f"Alertmanager payload: {where} must be 'firing' or 'resolved', not {value!r}")
    return str(value)


def _time(value: Any, where: str) -> datetime | None:
    text = _str(value, where)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(f"Alertmanager payload: {where} {text!r} is not an RFC 3339 time") from None
    if t.tzinfo is None:
        raise InvalidParameter(f"Alertmanager payload: {where} {text!r} has no time zone (RFC 3339 needs one)")
    return None if t.year == 1 else t  # Go's zero time: not set


def _alert(value: Any, where: str) -> AlertEvent:
    if not isinstance(value, dict):
        raise InvalidParameter(f"Alertmanager payload: {where} must be an object, not {type(value).__name__}")
    labels = _labels(value.get("labels"), f"{where}.labels")
    if not labels.get("alertname"):
        raise InvalidParameter(f"Alertmanager payload: {where}.labels has no alertname")
    starts = _time(value.get("startsAt"), f"{where}.startsAt")
    if starts is None:
        raise InvalidParameter(f"Alertmanager payload: {where}.startsAt is the zero time: when did it start?")
    ends = _time(value["endsAt"], f"{where}.endsAt") if value.get("endsAt") is not None else None
    return AlertEvent(status=_status(value.get("status"), f"{where}.status"), name=labels["alertname"],
                      labels=labels, annotations=_labels(value.get("annotations"), f"{where}.annotations"),
                      starts_at=starts, ends_at=ends,
                      fingerprint=_str(value.get("fingerprint"), f"{where}.fingerprint", required=False),
                      generator_url=_str(value.get("generatorURL"), f"{where}.generatorURL", required=False))


def parse_notification(payload: Any) -> AlertNotification:
    """Alertmanager's webhook JSON (a dict) as an ``AlertNotification``; ``InvalidParameter``
    naming the field when it is not a version 4 payload."""
    if not isinstance(payload, dict):
        raise InvalidParameter("Alertmanager payload: the body must be a JSON object (Alertmanager's webhook "
                               "payload, version 4)")
    version = payload.get("version")
    if version != VERSION:
        raise InvalidParameter(f"Alertmanager payload: version {version!r} is not supported: stead reads "
                               f"version {VERSION!r}, what Alertmanager's webhook_config sends")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise InvalidParameter("Alertmanager payload: alerts must be a list")
    truncated = payload.get("truncatedAlerts", 0)
    if isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0:
        raise InvalidParameter(f"Alertmanager payload: truncatedAlerts must be a count, not {truncated!r}")
    return AlertNotification(
        receiver=_str(payload.get("receiver"), "receiver"),
        status=_status(payload.get("status"), "status"),
        group_key=_str(payload.get("groupKey"), "groupKey", required=False),
        alerts=tuple(_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)),
        group_labels=_labels(payload.get("groupLabels"), "groupLabels"),
        common_labels=_labels(payload.get("commonLabels"), "commonLabels"),
        common_annotations=_labels(payload.get("commonAnnotations"), "commonAnnotations"),
        external_url=_str(payload.get("externalURL"), "externalURL", required=False),
        truncated_alerts=truncated,
    )

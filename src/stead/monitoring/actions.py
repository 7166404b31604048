"""Alert events and the actions they start.

An alert event is one row of ``alert_events``: raised by a monitor run (``source="monitor"``)
or received from Alertmanager's webhook (``source="alertmanager"``), with the action taken
and how it went. A monitor's ``on_alert`` action is one of:

- ``run:FILE.py:PIPELINE``: the pipeline starts as its own process (``stead.pipelines.launch``,
  what ``POST /api/stead/v1/pipelines/runs`` does), with the parameters it declares among
  ``deployment``, ``monitor``, ``alert`` and ``dataset`` (the newest version of the dataset the
  served model was trained on, ``data:/customers@5``) set from the alert;
- an ``http(s)://`` URL: the alert is POSTed as JSON, retried on a connection error or a 5xx
  answer with bounded exponential backoff (0.5 s, 1 s, 2 s, ... at most 8 s; 4 tries).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from stead.monitoring.tables import alert_events
from stead.store.engine import Store

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.monitoring.monitors import Monitor

__all__ = ["AlertRecord", "record_event", "list_events", "perform", "post_webhook", "set_result",
           "PIPELINE_PARAMS"]

_T = alert_events
PIPELINE_PARAMS = ("deployment", "monitor", "alert", "dataset")


@dataclass(frozen=True)
class AlertRecord:
    id: int
    source: str
    name: str
    deployment: str | None
    monitor: str | None
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    time: int
    action: str | None
    result: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def record_event(store: Store, *, source: str, name: str, status: str, deployment: str | None = None,
                 monitor: str | None = None, labels: Mapping[str, str] | None = None,
                 annotations: Mapping[str, str] | None = None, time_ms: int | None = None,
                 action: str | None = None, result: str | None = None) -> int:
    """Store one alert event; its id."""
    row = {"source": source, "name": name, "deployment": deployment, "monitor": monitor, "status": status,
           "labels": json.dumps(dict(labels or {}), sort_keys=True),
           "annotations": json.dumps(dict(annotations or {}), sort_keys=True),
           "time": int(time.time() * 1000) if time_ms is None else int(time_ms), "action": action, "result": result}
    with store.write() as conn:
        done = conn.execute(_T.insert().returning(_T.c.id), [row]).first()
    assert done is not None
    return int(done[0])


def set_result(store: Store, event_id: int, action: str | None, result: str) -> None:
    with store.write() as conn:
        conn.execute(update(_T).where(_T.c.id == event_id).values(action=action, result=result))


def list_events(store: Store, *, limit: int = 50, deployment: str | None = None,
                monitor: str | None = None) -> list[AlertRecord]:
    """The newest alert events first."""
    query = select(_T).order_by(_T.c.time.desc(), _T.c.id.desc()).limit(limit)
    if deployment is not None:
        query = query.where(_T.c.deployment == deployment)
    if monitor is not None:
        query = query.where(_T.c.monitor == monitor)
    with store.read() as conn:
        rows = conn.execute(query).all()
    return [AlertRecord(id=int(r.id), source=r.source, name=r.name, deployment=r.deployment, monitor=r.monitor,
                        status=r.status, labels=json.loads(r.labels), annotations=json.loads(r.annotations),
                        time=int(r.time), action=r.action, result=r.result) for r in rows]


def post_webhook(url: str, payload: Mapping[str, Any], *, attempts: int = 4, backoff: float = 0.5,
                 max_backoff: float = 8.0, timeout: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> str:
    """POST ``payload`` as JSON to ``url``; retried on a connection error or a 5xx answer.
    The outcome in words (``delivered: HTTP 200 after 2 tries``, ``failed: ...``); never raises."""
    import httpx

    last = ""
    for attempt in range(1, attempts + 1):
        try:
            answer = httpx.post(url, json=dict(payload), timeout=timeout)
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if answer.status_code < 500:
                tries = "1 try" if attempt == 1 else f"{attempt} tries"
                verdict = "delivered" if answer.status_code < 400 else "refused"
                return f"{verdict}: HTTP {answer.status_code} after {tries}"
            last = f"HTTP {answer.status_code}"
        if attempt < attempts:
            sleep(min(max_backoff, backoff * 2 ** (attempt - 1)))
    return f"failed: {last} after {attempts} tries"


def _pipeline_params(settings: "Settings", store: Store, source: str, context: Mapping[str, Any]) -> dict[str, Any]:
    from stead.pipelines.loader import load_pipeline

    declared = load_pipeline(source).signature.parameters
    params = {k: context[k] for k in PIPELINE_PARAMS if k in declared and context.get(k) is not None}
    if "dataset" in declared and isinstance(context.get("trained_on"), str):
        from stead.data.service import get_version

        name = context["trained_on"][len("data:/"):].partition("@")[0]
        try:
            params["dataset"] = get_version(store, name).uri
        except Exception:  # the dataset is gone: the pipeline's default stands
            pass
    return params


def perform(settings: "Settings", store: Store, monitor: "Monitor", alert: Mapping[str, Any],
            event_id: int) -> str:
    """Carry out ``monitor``'s ``on_alert`` for ``alert`` (its JSON) and record the outcome on
    event ``event_id``; the outcome in words. Never raises: an action that fails says so."""
    from stead.monitoring.monitors import parse_action

    try:
        parsed = parse_action(monitor.on_alert)
        if parsed is None:
            result = "no action"
        elif parsed[0] == "webhook":
            result = post_webhook(parsed[1], alert)
        else:
            from stead.pipelines.launch import start_run

            params = _pipeline_params(settings, store, parsed[1], {**alert, "monitor": monitor.name})
            run = start_run(settings, parsed[1], params, trigger=f"monitor:{monitor.name}", logs="monitor-actions")
            result = f"started pipeline run {run.run_id}" + (f" with {json.dumps(params)}" if params else "")
    except Exception as exc:  # an action is best effort; the event keeps why it failed
        result = f"failed: {exc}"
    set_result(store, event_id, monitor.on_alert, result)
    return result


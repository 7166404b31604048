"""Monitors: a deployment checked on a schedule, kept in the metadata store.

A monitor names a deployment, how often to check it (``every``), how far back each check
looks (``window``), when the data counts as drifted (``drift_share``), the least live
performance it accepts (``minimums``: ``{"accuracy": 0.8}``, a minimum for the metrics where
higher is better; for ``mae`` and ``rmse`` the value is a maximum) and what to do on an alert
(``on_alert``: ``run:FILE.py:PIPELINE`` starts that pipeline, an ``http(s)://`` URL gets the
alert as JSON). ``stead.monitoring.run_monitor`` runs one check; ``stead.monitoring.scheduler``
runs the due ones.

``next_due`` (ms) is when the next check is due. A scheduler takes a due check with
``claim``: one conditional UPDATE that moves ``next_due`` past ``now`` only if nobody moved
it first, so with any number of server replicas on one database each period runs once.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from stead.errors import AlreadyExists, InvalidParameter, NotFound
from stead.monitoring.tables import monitors
from stead.store.engine import Store

__all__ = ["Monitor", "METRICS", "MAXIMA", "create", "list_monitors", "get", "delete_monitor", "parse_action", "claim",
           "due", "duration"]

_T = monitors
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
METRICS = ("accuracy", "f1", "roc_auc")  # minimums a monitor may set (higher is better)
MAXIMA = ("mae", "rmse")  # maxima a monitor may set (lower is better)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")


@dataclass(frozen=True)
class Monitor:
    name: str
    deployment: str
    every_s: float
    window_s: float
    drift_share: float = 0.5
    minimums: dict[str, float] = field(default_factory=dict)
    on_alert: str | None = None
    next_due: int = 0  # ms since the epoch
    user_id: str = ""
    created_at: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "deployment": self.deployment, "every_s": self.every_s,
                "window_s": self.window_s, "drift_share": self.drift_share, "minimums": dict(self.minimums),
                "on_alert": self.on_alert, "next_due": self.next_due, "user_id": self.user_id,
                "created_at": self.created_at}


def duration(text: str | float, what: str) -> float:
    """Seconds in ``30s``, ``15m``, ``1h``, ``2d``, ``1w`` or a number of seconds; at least 1 s."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text).strip())
        if not match:
            raise InvalidParameter(f"{what} {text!r} is not a duration: write it like 30s, 15m, 1h, 2d or 1w")
        seconds = float(match[1]) * _UNITS[match[2]]
    if not (math.isfinite(seconds) and seconds >= 1):
        raise InvalidParameter(f"{what} {text!r} must be at least one second")
    return seconds


def parse_action(action: str | None) -> tuple[str, str] | None:
    """``("run", "FILE.py:PIPELINE")`` or ``("webhook", URL)`` for a monitor's ``on_alert``;
    None for no action. ``InvalidParameter`` for any other form."""
    if action is None or action == "":
        return None
    if action.startswith("run:"):
        target = action[len("run:"):]
        path, sep, name = target.rpartition(":")
        if not sep or not path.endswith(".py") or not name:
            raise InvalidParameter(f"Alert action {action!r}: write run:FILE.py:PIPELINE, e.g. "
                                   "run:examples/churn/pipeline.py:train_pipeline")
        return "run", target
    if re.match(r"^https?://[^\s/]+", action):
        return "webhook", action
    raise InvalidParameter(f"Alert action {action!r} is neither run:FILE.py:PIPELINE (start a pipeline) nor an "
                           "http:// or https:// URL (a webhook)")


def _check_action(action: str | None) -> str | None:
    parsed = parse_action(action)
    if parsed is None or parsed[0] == "webhook":
        return action or None
    target = parsed[1]
    path, _, name = target.rpartition(":")
    file = Path(path).expanduser()
    if not file.is_file():
        raise NotFound(f"Alert action {action!r}: no pipeline file {path}")
    from stead.pipelines.loader import load_pipeline

    resolved = f"{file.resolve()}:{name}"  # the server that acts may run elsewhere: an absolute path
    load_pipeline(resolved)  # NotFound / InvalidParameter now, not when the alert fires
    return f"run:{resolved}"


def _row(m: Monitor) -> dict[str, Any]:
    return {**m.to_json(), "minimums": json.dumps(m.minimums)}


def _record(row: Mapping[str, Any]) -> Monitor:
    return Monitor(name=row["name"], deployment=row["deployment"], every_s=float(row["every_s"]),
                   window_s=float(row["window_s"]), drift_share=float(row["drift_share"]),
                   minimums={k: float(v) for k, v in json.loads(row["minimums"]).items()},
                   on_alert=row["on_alert"], next_due=int(row["next_due"]), user_id=row["user_id"] or "",
                   created_at=int(row["created_at"]))


def create(store: Store, name: str, deployment: str, *, every: str | float, window: str | float,
           drift_share: float = 0.5, minimums: Mapping[str, float | None] | None = None,
           on_alert: str | None = None, user_id: str = "", now: float | None = None) -> Monitor:
    """Store a monitor of ``deployment``; its first check is due at once. Everything is checked
    first (the deployment exists, the durations, the limits, the action's form and pipeline)."""
    from sqlalchemy.exc import IntegrityError

    from stead.serving.deployments import Deployments

    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameter(f"Monitor name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    Deployments(store).get(deployment)  # NotFound naming it
    every_s, window_s = duration(every, "--every"), duration(window, "--window")
    if not (isinstance(drift_share, (int, float)) and 0 < drift_share <= 1):
        raise InvalidParameter(f"--drift-share {drift_share!r} must be a share in (0, 1]")
    limits: dict[str, float] = {}
    for metric, value in (minimums or {}).items():
        if value is None:
            continue
        if metric in MAXIMA:
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InvalidParameter(f"The maximum {metric} {value!r} must be a number of at least 0")
        elif metric not in METRICS:
            raise InvalidParameter(f"No limit for {metric!r}: a monitor sets a minimum for {', '.join(METRICS)} and a "
                                   f"maximum for {', '.join(MAXIMA)}")
        elif not (isinstance(value, (int, float)) and 0 <= value <= 1):
            raise InvalidParameter(f"The minimum {metric} {value!r} must be between 0 and 1")
        limits[metric] = float(value)
    action = _check_action(on_alert)
    t = int((time.time() if now is None else now) * 1000)
    monitor = Monitor(name, deployment, every_s, window_s, float(drift_share), limits, action, t, user_id, t)
    try:
        with store.write() as conn:
            conn.execute(_T.insert(), [_row(monitor)])
    except IntegrityError:
        raise AlreadyExists(f"Monitor {name!r} exists; delete it first with stead monitor delete {name}") from None
    return monitor


def list_monitors(store: Store, deployment: str | None = None) -> list[Monitor]:
    query = select(_T).order_by(_T.c.name)
    if deployment is not None:
        query = query.where(_T.c.deployment == deployment)
    with store.read() as conn:
        return [_record(r._mapping) for r in conn.execute(query)]


def get(store: Store, name: str) -> Monitor:
    with store.read() as conn:
        row = conn.execute(select(_T).where(_T.c.name == name)).first()
    if row is None:
        raise NotFound(f"No monitor named {name!r}; list them with stead monitor list")
    return _record(row._mapping)


def delete_monitor(store: Store, name: str) -> None:
    """Delete the monitor (its runs and alert events stay, as history)."""
    with store.write() as conn:
        gone = conn.execute(delete(_T).where(_T.c.name == name)).rowcount
    if not gone:
        raise NotFound(f"No monitor named {name!r}; list them with stead monitor list")


def due(store: Store, now_ms: int) -> list[Monitor]:
    """The monitors whose check is due at ``now_ms``."""
    with store.read() as conn:
        rows = conn.execute(select(_T).where(_T.c.next_due <= now_ms).order_by(_T.c.next_due, _T.c.name))
        return [_record(r._mapping) for r in rows]


def claim(store: Store, monitor: Monitor, now_ms: int) -> bool:
    """Take ``monitor``'s due check: move ``next_due`` to its first period end after ``now_ms``
    (missed periods are skipped, not run in a burst) if it still holds what ``monitor`` read.
    True for exactly one of any number of claimers of the same period."""
    if monitor.next_due > now_ms:
        return False
    every_ms = max(1, int(monitor.every_s * 1000))
    periods = (now_ms - monitor.next_due) // every_ms + 1
    nxt = monitor.next_due + periods * every_ms
    with store.write() as conn:
        done = conn.execute(update(_T).where(_T.c.name == monitor.name, _T.c.next_due == monitor.next_due)
                            .values(next_due=nxt))
    return bool(done.rowcount == 1)

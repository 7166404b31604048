"""A rollout's records and how they are stored: ``Rollout`` (settings, state, weight, failed
analyses) in ``rollouts`` and ``Decision`` (an analysis and what followed, or a person's
action) in ``rollout_decisions`` (``stead.serving.tables``, migration ``0502_serving_rollouts``).
``stead.monitoring.rollout`` is the controller that writes them; ``current`` and ``history``
read them back. Times are ms since the epoch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stead.errors import NotFound

__all__ = ["Rollout", "Decision", "OPTIONS", "ACTIVE", "PROGRESSING", "PAUSED", "PROMOTED", "ROLLED_BACK",
           "ABORTED", "current", "history", "active", "record", "from_row", "ms", "plain"]

PROGRESSING, PAUSED, PROMOTED, ROLLED_BACK, ABORTED = "progressing", "paused", "promoted", "rolled_back", "aborted"
ACTIVE = (PROGRESSING, PAUSED)
# the judge's settings a rollout may change (``options=``), with their defaults
OPTIONS: dict[str, float] = {
    "min_samples": 50, "alpha": 0.05, "latency_tolerance": 0.1, "latency_absolute_ms": 5.0,
    "error_tolerance": 0.0, "accuracy_tolerance": 0.0, "pass_score": 95.0, "marginal_score": 75.0,
}


@dataclass(frozen=True)
class Rollout:
    """One rollout's settings and where it stands; times in ms since the epoch."""

    id: int
    deployment: str
    variant: str
    candidate: str
    candidate_version: str
    step: int
    max_weight: int
    interval_s: float
    checks: int
    options: dict[str, float]
    state: str
    weight: int
    failed: int
    reason: str
    user_id: str
    started_at: int
    updated_at: int

    @property
    def due_at(self) -> float:
        """When the next analysis is due (seconds since the epoch)."""
        return self.updated_at / 1000 + self.interval_s

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "deployment": self.deployment, "variant": self.variant, "candidate": self.candidate,
                "candidate_version": self.candidate_version, "step": self.step, "max_weight": self.max_weight,
                "interval_s": self.interval_s, "checks": self.checks, "options": dict(self.options),
                "state": self.state, "weight": self.weight, "failed": self.failed, "reason": self.reason,
                "user_id": self.user_id, "started_at": self.started_at, "updated_at": self.updated_at,
                "next_analysis_at": int(self.due_at * 1000) if self.state == PROGRESSING else None}


@dataclass(frozen=True)
class Decision:
    """One stored decision: an analysis and what followed, or a person's action (no verdict)."""

    rollout_id: int
    time: int
    window_start: int | None
    weight_before: int
    weight_after: int
    verdict: str | None
    score: float | None
    analysis: dict[str, Any] | None
    action: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"rollout_id": self.rollout_id, "time": self.time, "window_start": self.window_start,
                "weight_before": self.weight_before, "weight_after": self.weight_after, "verdict": self.verdict,
                "score": self.score, "action": self.action, "message": self.message, "analysis": self.analysis}


def ms(seconds: float) -> int:
    """Seconds since the epoch as the store's milliseconds."""
    return int(round(seconds * 1000))


def from_row(r: Mapping[str, Any]) -> Rollout:
    """A ``rollouts`` row as a ``Rollout``."""
    return Rollout(int(r["id"]), r["deployment"], r["variant"], r["candidate"], r["candidate_version"],
                   int(r["step"]), int(r["max_weight"]), float(r["interval_s"]), int(r["checks"]),
                   json.loads(r["options"]), r["state"], int(r["weight"]), int(r["failed"]), r["reason"] or "",
                   r["user_id"] or "", int(r["started_at"]), int(r["updated_at"]))


def plain(value: Any) -> Any:
    """JSON has no NaN or infinity: such a figure is stored as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def record(conn: Any, r: Rollout, now_ms: int, action: str, message: str, weight_after: int, *,
           window_start: int | None = None, analysis: dict[str, Any] | None = None) -> Decision:
    """Store one decision on ``r`` (its weight before) in the transaction ``conn``."""
    from stead.serving.tables import rollout_decisions as rd

    verdict = analysis["status"] if analysis else None
    score = analysis["score"] if analysis else None
    d = Decision(r.id, now_ms, window_start, r.weight, weight_after, verdict, score, analysis, action, message)
    conn.execute(rd.insert().values(rollout_id=r.id, time=now_ms, window_start=window_start,
                                    weight_before=r.weight, weight_after=weight_after, verdict=verdict, score=score,
                                    analysis=None if analysis is None else json.dumps(plain(analysis)),
                                    action=action, message=message))
    return d


def active(store: Any, deployment: str) -> Rollout | None:
    """The rollout of ``deployment`` that is progressing or paused, if any."""
    from stead.serving.tables import rollouts as t

    with store.read() as conn:
        found = conn.execute(t.select().where(t.c.deployment == deployment, t.c.state.in_(ACTIVE))
                           .order_by(t.c.id.desc())).mappings().first()
    return None if found is None else from_row(found)


def current(store: Any, deployment: str) -> Rollout:
    """The latest rollout of ``deployment`` (the one in progress, if any)."""
    from stead.serving.tables import rollouts as t

    with store.read() as conn:
        found = conn.execute(t.select().where(t.c.deployment == deployment).order_by(t.c.id.desc())).mappings().first()
    if found is None:
        raise NotFound(f"Deployment {deployment!r} has no rollout; start one with stead deploy rollout "
                       f"{deployment} --candidate MODEL@ALIAS")
    return from_row(found)


def history(store: Any, deployment: str) -> list[tuple[Rollout, Decision]]:
    """Every decision on every rollout of ``deployment``, oldest first."""
    from sqlalchemy import select

    from stead.serving.tables import rollout_decisions as rd
    from stead.serving.tables import rollouts as t

    with store.read() as conn:
        rows = conn.execute(select(t, rd.c.time, rd.c.window_start, rd.c.weight_before, rd.c.weight_after,
                                   rd.c.verdict, rd.c.score, rd.c.analysis, rd.c.action, rd.c.message)
                            .join(rd, rd.c.rollout_id == t.c.id).where(t.c.deployment == deployment)
                            .order_by(rd.c.time, rd.c.id)).mappings().all()
    return [(from_row(r), Decision(int(r["id"]), int(r["time"]), r["window_start"], int(r["weight_before"]),
                                   int(r["weight_after"]), r["verdict"], r["score"],
                                   None if r["analysis"] is None else json.loads(r["analysis"]), r["action"],
                                   r["message"] or "")) for r in rows]

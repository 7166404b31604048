"""What the model servers of a deployment report about its variants, kept in the store.

Model servers keep no state of their own, so each one writes what it serves into the
``deployment_health`` table: one row per variant (state, version served, applied weight,
the one-line error), replaced on every poll and valid until ``expires_at``. A server that
stops cleanly withdraws its rows; one that died leaves rows that expire. ``stead deploy
promote`` and ``switch`` read the rows that have not expired and refuse a variant that is
not live, at the version they would move to, on every server that reports.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stead.serving.variants import LIVE, VariantState

__all__ = ["Report", "server_id", "report", "withdraw", "current", "problems", "ttl_ms"]


@dataclass(frozen=True)
class Report:
    """One server's word on one variant."""

    server: str
    variant: str
    model: str
    model_version: str | None
    state: str
    error: str | None
    weight: float
    reported_at: int
    expires_at: int

    def to_dict(self) -> dict[str, Any]:
        return {"server": self.server, "variant": self.variant, "model": self.model,
                "model_version": self.model_version, "state": self.state, "error": self.error,
                "weight": self.weight, "reported_at": self.reported_at, "expires_at": self.expires_at}


def server_id() -> str:
    """This process as reports name it: host, pid and a random tag (a pid can be reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def ttl_ms(poll_s: float) -> int:
    """How long a report stands: three polls, and at least 5 s (a busy server may be late)."""
    return int(max(3 * poll_s, 5.0) * 1000)


def report(store: Any, deployment: str, server: str, states: Sequence[VariantState], ttl: int) -> None:
    """Replace ``server``'s rows for ``deployment`` with ``states``, valid for ``ttl`` ms."""
    from stead.serving.tables import deployment_health as h

    now = int(time.time() * 1000)
    rows = [{"deployment": deployment, "server": server, "variant": s.name, "model": s.model,
             "model_version": s.version, "state": s.state, "error": s.error, "weight": float(s.applied),
             "reported_at": now, "expires_at": now + ttl} for s in states]
    with store.write() as conn:
        conn.execute(h.delete().where(h.c.deployment == deployment, h.c.server == server))
        if rows:
            conn.execute(h.insert(), rows)


def withdraw(store: Any, deployment: str, server: str) -> None:
    """``server`` stops serving ``deployment``: its rows go."""
    from stead.serving.tables import deployment_health as h

    with store.write() as conn:
        conn.execute(h.delete().where(h.c.deployment == deployment, h.c.server == server))


def current(store: Any, deployment: str, now_ms: int | None = None) -> list[Report]:
    """The reports on ``deployment`` that have not expired, by server then variant."""
    from stead.serving.tables import deployment_health as h

    now = int(time.time() * 1000) if now_ms is None else now_ms
    with store.read() as conn:
        rows = conn.execute(h.select().where(h.c.deployment == deployment, h.c.expires_at > now)
                            .order_by(h.c.server, h.c.variant)).mappings().all()
    return [Report(r["server"], r["variant"], r["model"], r["model_version"], r["state"], r["error"],
                   float(r["weight"]), int(r["reported_at"]), int(r["expires_at"])) for r in rows]


def problems(reports: Sequence[Report], deployment: str, variant: str, model: str, version: str) -> list[str]:
    """Why ``variant`` (``model`` at ``version``) is not known to serve on every reporting
    server; empty when it is live there at that version."""
    if not reports:
        return [f"no model server reports on deployment {deployment} (none running, or none polled the store "
                f"lately); start one with stead serve --deployment {deployment}"]
    out: list[str] = []
    for server in sorted({r.server for r in reports}):
        mine = [r for r in reports if r.server == server and r.variant == variant]
        if not mine:
            out.append(f"{server}: does not serve variant {variant} yet")
            continue
        r = mine[0]
        why = f" ({r.error})" if r.error else ""
        if r.model != model:
            out.append(f"{server}: still serves {r.model} as {variant}, not {model}")
        elif r.state != LIVE:
            out.append(f"{server}: {variant} is {r.state}{why}")
        elif r.model_version != version:
            out.append(f"{server}: {variant} serves version {r.model_version}, not {version}{why}")
    return out

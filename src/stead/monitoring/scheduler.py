"""The stead server's controller loop: due monitors run and due rollouts decided, once each
however many replicas run it.

``tick(now)`` lists the monitors due at ``now`` and claims each with ``monitors.claim`` (a
conditional UPDATE of ``next_due``): only the claimer that moved it runs the check, so a
period runs once however many replicas tick on one database. ``tick_rollouts(now)`` makes
the one decision due for every progressing rollout (``stead.monitoring.rollout.tick``, which
claims each interval by a conditional UPDATE of the rollout's ``updated_at`` the same way).
``MonitorScheduler`` is that loop on a daemon thread, started and stopped with the stead
server (``stead server --no-monitors`` leaves the whole loop out: neither monitors nor
rollouts run in that process). It wakes when the next monitor or rollout is due (at most
``interval`` seconds apart, so one created elsewhere is seen within ``interval``). A check or
decision that fails is recorded as such and the loop goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.monitoring.rollout_records import Decision
    from stead.monitoring.run_monitor import MonitorRun
    from stead.store.engine import Store

__all__ = ["tick", "tick_rollouts", "next_due", "MonitorScheduler"]

log = logging.getLogger("stead.monitoring")
_MIN_WAIT = 0.05  # seconds: never spin, even when something is overdue


def tick(settings: "Settings", store: "Store", artifacts: Any, now: float, *,
         run: Callable[..., "MonitorRun"] | None = None) -> list["MonitorRun"]:
    """Claim and run every monitor due at ``now`` (seconds); the runs this call made."""
    from stead.monitoring.monitors import claim, due
    from stead.monitoring.run_monitor import run_monitor

    run = run or run_monitor
    done = []
    now_ms = int(now * 1000)
    for monitor in due(store, now_ms):
        if not claim(store, monitor, now_ms):
            continue  # another replica took this period
        try:
            done.append(run(settings, store, artifacts, monitor, now=now))
        except Exception:
            log.exception("monitor %s failed", monitor.name)
    return done


def tick_rollouts(settings: "Settings", store: "Store", artifacts: Any, now: float, *,
                  registry: Any = None) -> list["Decision"]:
    """One decision for every progressing rollout whose interval is over at ``now``; the
    decisions this call made (a rollout another replica claimed first is left to it)."""
    from stead.monitoring import rollout

    if registry is None:
        registry = _registry(settings)
    made = rollout.tick(store, artifacts, now, registry=registry)
    for d in made:
        log.info("rollout %s: %s (%s%% -> %s%%): %s", d.rollout_id, d.action, d.weight_before, d.weight_after,
                 d.message)
    return made


def _registry(settings: "Settings") -> Any:
    """The registry a rollout resolves model references with (``churn@production``)."""
    from stead.registry.client import RegistryClient

    return RegistryClient(settings)


def next_due(store: "Store") -> float | None:
    """When the next monitor check or rollout decision is due (seconds), None for nothing."""
    from sqlalchemy import func, select

    from stead.monitoring.rollout_records import PROGRESSING
    from stead.monitoring.tables import monitors
    from stead.serving.tables import rollouts as r

    with store.read() as conn:
        m = conn.execute(select(func.min(monitors.c.next_due))).scalar()
        d = conn.execute(select(func.min(r.c.updated_at + r.c.interval_s * 1000))
                         .where(r.c.state == PROGRESSING)).scalar()
    found = [float(x) / 1000 for x in (m, d) if x is not None]
    return min(found) if found else None


class MonitorScheduler:
    """``tick`` and ``tick_rollouts`` on a daemon thread until ``stop()``: each time something
    is due, and at least every ``interval`` seconds."""

    def __init__(self, settings: "Settings", store: "Store", artifacts: Any, *, interval: float = 5.0,
                 rollouts: bool = True) -> None:
        self.settings, self.store, self.artifacts, self.interval = settings, store, artifacts, interval
        self.rollouts = rollouts
        self._registry: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="stead-monitors", daemon=True)
        self._thread.start()

    def _step(self) -> None:
        """One pass: the due monitors, then the due rollouts (each part's trouble logged alone)."""
        try:
            tick(self.settings, self.store, self.artifacts, time.time())
        except Exception:  # the store is down for a moment: try again next time
            log.exception("running due monitors")
        if not self.rollouts:
            return
        try:
            if self._registry is None:
                self._registry = _registry(self.settings)
            tick_rollouts(self.settings, self.store, self.artifacts, time.time(), registry=self._registry)
        except Exception:
            log.exception("deciding due rollouts")

    def _wait(self) -> float:
        """Seconds until the next pass: until the next thing due, within [0.05, interval]."""
        try:
            due = next_due(self.store)
        except Exception:
            return self.interval
        if due is None:
            return self.interval
        return min(self.interval, max(_MIN_WAIT, due - time.time()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._step()
            self._stop.wait(self._wait())

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

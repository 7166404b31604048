"""Run due monitors: one loop per server process, safe with any number of replicas.

``tick(now)`` lists the monitors due at ``now`` and claims each with ``monitors.claim`` (a
conditional UPDATE of ``next_due``): only the claimer that moved it runs the check, so a
period runs once however many replicas tick on one database. ``MonitorScheduler`` is that
loop on a daemon thread, started and stopped with the stead server (``stead server
--no-monitors`` leaves it out). A check that fails is recorded as a failed run and the loop
goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.monitoring.run_monitor import MonitorRun
    from stead.store.engine import Store

__all__ = ["tick", "MonitorScheduler"]

log = logging.getLogger("stead.monitoring")


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


class MonitorScheduler:
    """``tick`` every ``interval`` seconds on a daemon thread until ``stop()``."""

    def __init__(self, settings: "Settings", store: "Store", artifacts: Any, *, interval: float = 5.0) -> None:
        self.settings, self.store, self.artifacts, self.interval = settings, store, artifacts, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="stead-monitors", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                tick(self.settings, self.store, self.artifacts, time.time())
            except Exception:  # the store is down for a moment: try again next time
                log.exception("running due monitors")
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

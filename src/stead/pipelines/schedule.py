"""Schedules: cron expressions that start pipeline runs, fired by ``stead scheduler``.

Each fire time of a schedule is claimed by inserting one ``pipeline_schedule_fires`` row;
its primary key (schedule, fire time) makes the claim unique, so any number of schedulers,
and a scheduler restarted at any moment, start each fire at most once.

Catch-up policy ("latest only"): when schedulers were down across several fire times, the
first tick afterwards starts one run for the most recent missed fire time and records the
older ones as MISSED, instead of starting a burst of stale runs. A fire is claimed before
its run is launched: if the scheduler dies between the two, that fire is lost rather than
doubled (its row says STARTED with the run id that never appeared).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stead.errors import AlreadyExists, InvalidParameter, NotFound
from stead.pipelines.records import now_ms

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.store.engine import Store

__all__ = ["Schedule", "Fire", "add_schedule", "list_schedules", "remove_schedule", "fire_times", "next_fire_time",
           "upcoming", "tick", "run_scheduler", "launch_subprocess"]

_MAX_MISSED = 10_000


@dataclass(frozen=True)
class Schedule:
    name: str
    source: str
    cron: str
    params: dict[str, Any]
    executor: str
    created_time: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "cron": self.cron, "params": self.params,
                "executor": self.executor, "created_time": self.created_time}


@dataclass(frozen=True)
class Fire:
    schedule: str
    fire_time: int
    status: str  # STARTED or MISSED
    run_id: str | None


def _check_cron(cron: str) -> None:
    from croniter import croniter

    if not croniter.is_valid(cron):
        raise InvalidParameter(f"{cron!r} is not a cron expression; e.g. \"0 0 * * 0\" is Sundays at midnight")
    if next_fire_time(cron, now_ms()) is None:
        raise InvalidParameter(f"{cron!r} never fires (no such date); e.g. \"0 0 28 2 *\" is every 28 February")


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def next_fire_time(cron: str, after_ms: int) -> int | None:
    """The first fire time (UTC, ms) strictly after ``after_ms``; None for a cron that never fires."""
    from croniter import CroniterBadDateError, croniter

    try:
        return int(croniter(cron, _utc(after_ms)).get_next(float) * 1000)
    except CroniterBadDateError:
        return None


def fire_times(cron: str, after_ms: int, until_ms: int, limit: int = _MAX_MISSED) -> list[int]:
    """Fire times (UTC, ms) in ``(after_ms, until_ms]``, oldest first; at most the latest ``limit``.

    Walks back from ``until_ms``, so the cost is the number returned, not the length of the
    gap (a minutely schedule a year behind costs ``limit`` steps, not half a million).
    """
    from croniter import CroniterBadDateError, croniter

    if until_ms <= after_ms:
        return []
    it = croniter(cron, _utc(until_ms + 1))  # + 1 ms: a fire exactly at until_ms counts
    times: list[int] = []
    try:
        while len(times) < limit:
            t = int(it.get_prev(float) * 1000)
            if t <= after_ms:
                break
            times.append(t)
    except CroniterBadDateError:
        pass
    times.reverse()
    return times


def add_schedule(
    store: "Store",
    name: str,
    source: str,
    cron: str,
    params: Mapping[str, Any] | None = None,
    *,
    executor: str = "local",
    created_time: int | None = None,
    validate: bool = True,
) -> Schedule:
    """Store a schedule; the pipeline and its parameters are checked now, not at 3 a.m."""
    from sqlalchemy.exc import IntegrityError

    from stead.pipelines.executors import EXECUTORS
    from stead.pipelines.tables import pipeline_schedules

    _check_cron(cron)
    if executor not in EXECUTORS:
        raise InvalidParameter(f"Unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    resolved = dict(params or {})
    if validate:
        from stead.pipelines.loader import load_pipeline

        resolved = load_pipeline(source).resolve_params(params)
    schedule = Schedule(name, source, cron, resolved, executor, created_time or now_ms())
    try:
        with store.write() as conn:
            conn.execute(pipeline_schedules.insert(), [{**schedule.to_json(), "params": json.dumps(resolved)}])
    except IntegrityError:
        raise AlreadyExists(f"Schedule {name!r} exists; remove it first with `stead schedule remove {name}`") from None
    return schedule


def list_schedules(store: "Store") -> list[Schedule]:
    from sqlalchemy import select

    from stead.pipelines.tables import pipeline_schedules

    with store.read() as conn:
        rows = conn.execute(select(pipeline_schedules).order_by(pipeline_schedules.c.name)).all()
    return [Schedule(**{**r._mapping, "params": json.loads(r.params)}) for r in rows]


def remove_schedule(store: "Store", name: str) -> None:
    from sqlalchemy import delete

    from stead.pipelines.tables import pipeline_schedule_fires, pipeline_schedules

    with store.write() as conn:
        conn.execute(delete(pipeline_schedule_fires).where(pipeline_schedule_fires.c.schedule == name))
        gone = conn.execute(delete(pipeline_schedules).where(pipeline_schedules.c.name == name)).rowcount
    if not gone:
        raise NotFound(f"No schedule named {name!r}; see `stead schedule list`")


def last_fires(store: "Store") -> dict[str, int]:
    from sqlalchemy import func, select

    from stead.pipelines.tables import pipeline_schedule_fires as fires

    with store.read() as conn:
        rows = conn.execute(select(fires.c.schedule, func.max(fires.c.fire_time)).group_by(fires.c.schedule))
        return {name: int(t) for name, t in rows}


def _claim(store: "Store", rows: list[dict[str, Any]]) -> bool:
    """Insert fire rows; True when this call inserted the last one (the one to start)."""
    from stead.pipelines.tables import pipeline_schedule_fires as fires

    if store.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    with store.write() as conn:
        stmt = insert(fires).on_conflict_do_nothing(index_elements=["schedule", "fire_time"])
        if rows[:-1]:
            conn.execute(stmt, rows[:-1])
        claimed = conn.execute(stmt.returning(fires.c.fire_time), rows[-1]).first()
        return claimed is not None


Launcher = Callable[[Schedule, str, int], None]


def tick(store: "Store", now: int, launch: Launcher, *, claimed_by: str | None = None) -> list[Fire]:
    """Claim and start every schedule's due fire (latest only); returns what this call started."""
    claimed_by = claimed_by or f"{socket.gethostname()}:{os.getpid()}"
    last = last_fires(store)
    started: list[Fire] = []
    for schedule in list_schedules(store):
        due = fire_times(schedule.cron, last.get(schedule.name, schedule.created_time), now)
        if not due:
            continue
        run_id = uuid.uuid4().hex
        rows = [
            {"schedule": schedule.name, "fire_time": t, "status": "MISSED", "run_id": None,
             "claimed_by": claimed_by, "claimed_time": now}
            for t in due[:-1]
        ]
        rows.append({"schedule": schedule.name, "fire_time": due[-1], "status": "STARTED", "run_id": run_id,
                     "claimed_by": claimed_by, "claimed_time": now})
        if _claim(store, rows):
            launch(schedule, run_id, due[-1])
            started.append(Fire(schedule.name, due[-1], "STARTED", run_id))
    return started


def upcoming(store: "Store", now: int) -> list[tuple[Schedule, int | None, int | None]]:
    """Each schedule with its last fire time (None before the first) and its next one after
    ``now`` (None for a cron that never fires): what the scheduler waits for is what
    ``stead schedule list`` shows."""
    last = last_fires(store)
    return [(s, last.get(s.name), next_fire_time(s.cron, max(last.get(s.name, s.created_time), now)))
            for s in list_schedules(store)]


def next_due(store: "Store", now: int) -> int | None:
    """The earliest future fire time of any schedule (ms), or None without schedules."""
    return min((nxt for _, _, nxt in upcoming(store, now) if nxt is not None), default=None)


def launch_subprocess(settings: "Settings") -> Launcher:
    """Start each fired run as its own ``stead pipeline run`` process (isolated from the scheduler)."""
    from stead.config import child_environment

    logs = Path(settings.home) / "scheduler"

    def launch(schedule: Schedule, run_id: str, fire_time: int) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-c", "from stead.cli.main import run; run()", "pipeline", "run", schedule.source,
                "--run-id", run_id, "--trigger", f"schedule:{schedule.name}", "-x", schedule.executor]
        for key, value in schedule.params.items():
            args += ["-p", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
        with open(logs / f"{run_id}.log", "ab") as out:
            subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=child_environment(settings),
                             start_new_session=True)

    return launch


def run_scheduler(
    settings: "Settings",
    store: "Store",
    *,
    stop: threading.Event,
    launch: Launcher | None = None,
    max_sleep: float = 30.0,
    on_fire: Callable[[Fire], None] | None = None,
) -> None:
    """Tick until ``stop`` is set, sleeping until the next fire time (at most ``max_sleep``)."""
    launch = launch or launch_subprocess(settings)
    while not stop.is_set():
        now = now_ms()
        for fire in tick(store, now, launch):
            if on_fire:
                on_fire(fire)
        nxt = next_due(store, now_ms())
        wait = max_sleep if nxt is None else min(max_sleep, max(0.0, (nxt - now_ms()) / 1000))
        stop.wait(wait)

"""Schedules: no double fires across restarts or rival schedulers; latest-only catch-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stead.errors import AlreadyExists, InvalidParameter, NotFound
from stead.pipelines.store import open_pipeline_store
from stead.pipelines.schedule import add_schedule, fire_times, list_schedules, next_fire_time, remove_schedule, tick

HOUR = 3600 * 1000
T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR)  # on the hour

PIPE = """
import stead.pipelines as sp

@sp.step
def hello(name: str) -> str:
    return "hello " + name

@sp.pipeline
def greet(name: str = "world"):
    hello(name)
"""


@pytest.fixture
def pipe(tmp_path: Path) -> str:
    path = tmp_path / "greet.py"
    path.write_text(PIPE)
    return f"{path}:greet"


def test_cron_fire_times():
    assert fire_times("0 * * * *", T0, T0 + 3 * HOUR) == [T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR]
    assert fire_times("0 * * * *", T0, T0 + HOUR - 1) == []


def test_fire_times_after_a_long_gap_are_the_latest_ones():
    minute = 60_000
    year_behind = fire_times("* * * * *", T0 - 366 * 24 * HOUR, T0)
    assert len(year_behind) == 10_000  # the cap on recorded misses keeps the most recent ones
    assert year_behind[-1] == T0 and year_behind[0] == T0 - 9_999 * minute
    assert fire_times("* * * * *", T0 - 3 * minute, T0 + 30_000, limit=2) == [T0 - minute, T0]
    assert next_fire_time("* * * * *", T0) == T0 + minute
    assert next_fire_time("* * * * *", T0 + 1) == T0 + minute
    assert next_fire_time("0 0 30 2 *", T0) is None


def test_add_list_remove_and_bad_input(settings, pipe):
    store = open_pipeline_store(settings)
    add_schedule(store, "hourly", pipe, "0 * * * *", {"name": "ann"})
    with pytest.raises(AlreadyExists):
        add_schedule(store, "hourly", pipe, "0 * * * *")
    with pytest.raises(InvalidParameter, match="not a cron expression"):
        add_schedule(store, "bad", pipe, "every tuesday")
    with pytest.raises(InvalidParameter, match="never fires"):
        add_schedule(store, "bad", pipe, "0 0 30 2 *")
    with pytest.raises(InvalidParameter, match="no parameter"):
        add_schedule(store, "bad", pipe, "0 * * * *", {"nme": "x"})
    [s] = list_schedules(store)
    assert s.params == {"name": "ann"} and s.cron == "0 * * * *"
    remove_schedule(store, "hourly")
    with pytest.raises(NotFound):
        remove_schedule(store, "hourly")


def test_restarts_neither_double_fire_nor_miss(settings, pipe):
    store = open_pipeline_store(settings)
    add_schedule(store, "hourly", pipe, "0 * * * *", created_time=T0 + 1)
    launched: list[tuple[str, int]] = []

    def launch(schedule, run_id, fire_time):
        launched.append((schedule.name, fire_time))

    assert tick(store, T0 + 30 * 60 * 1000, launch) == []
    assert len(tick(store, T0 + HOUR + 5, launch)) == 1
    assert tick(store, T0 + HOUR + 10, launch) == []  # a restarted scheduler: already claimed
    # down for three fire times: only the latest runs, the others are recorded as missed
    fired = tick(store, T0 + 4 * HOUR + 5, launch)
    assert [f.fire_time for f in fired] == [T0 + 4 * HOUR]
    assert launched == [("hourly", T0 + HOUR), ("hourly", T0 + 4 * HOUR)]
    from sqlalchemy import select

    from stead.pipelines.tables import pipeline_schedule_fires as fires

    with store.read() as conn:
        rows = conn.execute(select(fires.c.fire_time, fires.c.status).order_by(fires.c.fire_time)).all()
    assert [(t - T0) // HOUR for t, _ in rows] == [1, 2, 3, 4]
    assert [s for _, s in rows] == ["STARTED", "MISSED", "MISSED", "STARTED"]


def test_two_schedulers_cannot_double_fire(settings, pipe):
    store = open_pipeline_store(settings)
    add_schedule(store, "hourly", pipe, "0 * * * *", created_time=T0 + 1)
    launched: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4, timeout=30)

    def scheduler(i: int) -> None:
        barrier.wait()
        for now in (T0 + HOUR + 1, T0 + 2 * HOUR + 1):
            def launch(schedule, run_id, fire_time):
                with lock:
                    launched.append(f"{fire_time}")

            tick(store, now, launch, claimed_by=f"scheduler-{i}")

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(launched) == [str(T0 + HOUR), str(T0 + 2 * HOUR)]


def test_cli_schedule_and_scheduler_once_starts_the_run(tmp_path, store_url, pipe):
    env = {**os.environ, "STEAD_HOME": str(tmp_path / "home"), "STEAD_STORE_URL": store_url,
           "STEAD_ARTIFACTS_URL": str(tmp_path / "artifacts"), "COLUMNS": "200"}

    def stead(*args: str) -> str:
        out = subprocess.run([sys.executable, "-c", "from stead.cli.main import run; run()", *args],
                             capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    stead("schedule", "add", "every-minute", pipe, "--cron", "* * * * *", "-p", "name=cron")
    assert json.loads(stead("schedule", "list", "--json"))[0]["params"] == {"name": "cron"}
    # make the schedule one that was due a minute ago
    from stead.config import Settings
    from stead.pipelines.tables import pipeline_schedules

    store = open_pipeline_store(Settings(home=tmp_path / "home", store_url=store_url))
    with store.write() as conn:
        conn.execute(pipeline_schedules.update().values(created_time=int(time.time() * 1000) - 120_000))
    fired = subprocess.run([sys.executable, "-c", "from stead.cli.main import run; run()", "scheduler", "--once",
                            "--log-format", "json"], capture_output=True, text=True, env=env, timeout=300)
    assert fired.returncode == 0 and fired.stdout == "", fired.stdout + fired.stderr
    [line] = [json.loads(text) for text in fired.stderr.splitlines()]  # every line is one JSON object
    assert line["logger"] == "stead.scheduler" and line["level"] == "INFO" and line["schedule"] == "every-minute"
    assert line["message"].startswith("started run ") and line["time"].endswith("Z")
    deadline = time.monotonic() + 120
    while True:  # the run is a separate process; poll its record
        runs = json.loads(stead("pipeline", "runs", "--json"))
        if runs and runs[0]["status"] in ("SUCCEEDED", "FAILED"):
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.2)
    assert runs[0]["status"] == "SUCCEEDED" and runs[0]["trigger"] == "schedule:every-minute"
    assert runs[0]["params"] == {"name": "cron"} and runs[0]["run_id"] == line["run_id"]
    stead("schedule", "remove", "every-minute")


def test_cli_list_shows_the_next_fire_times(tmp_path, pipe):
    """The table a person reads: the next minute for a minutely cron, the next 29 February
    for a leap-day one; both in UTC, as the cron expressions are."""
    from datetime import datetime, timedelta, timezone

    env = {**os.environ, "STEAD_HOME": str(tmp_path / "home"), "COLUMNS": "250"}

    def stead(*args: str) -> str:
        out = subprocess.run([sys.executable, "-c", "from stead.cli.main import run; run()", *args],
                             capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    stead("schedule", "add", "minutely", pipe, "--cron", "* * * * *")
    stead("schedule", "add", "leap-day", pipe, "--cron", "0 6 29 2 *")

    def next_minute() -> str:
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
        return now.strftime("%Y-%m-%d %H:%M UTC")

    before = next_minute()
    table = stead("schedule", "list")
    after = next_minute()
    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if line.count("│") > 3}
    assert before in rows["minutely"] or after in rows["minutely"], table
    year = datetime.now(timezone.utc).year
    leap = next(y for y in range(year, year + 8) if y % 4 == 0 and (y % 100 or y % 400 == 0)
                and datetime(y, 2, 29, 6, tzinfo=timezone.utc) > datetime.now(timezone.utc))
    assert f"{leap}-02-29 06:00 UTC" in rows["leap-day"], table
    listed = {s["name"]: s for s in json.loads(stead("schedule", "list", "--json"))}
    assert listed["leap-day"]["next_fire_time"] == int(datetime(leap, 2, 29, 6, tzinfo=timezone.utc).timestamp() * 1000)

"""``stead schedule``: add, list and remove cron schedules of pipelines."""

from __future__ import annotations

import typer

from stead.cli.common import JSON_OPTION, settings
from stead.cli.output import print_json, print_table, success
from stead.cli.pipeline import PARAM_OPTION, parse_params

app = typer.Typer(no_args_is_help=True)


def _store():  # type: ignore[no-untyped-def]
    from stead.pipelines.store import open_pipeline_store

    return open_pipeline_store(settings())


@app.command("add")
def add(
    name: str = typer.Argument(..., help="A name for the schedule."),
    pipeline: str = typer.Argument(..., help="The pipeline: path/to/file.py:name or package.module:name."),
    cron: str = typer.Option(..., "--cron", help='Cron expression in UTC, e.g. "0 0 * * 0" (Sundays 00:00).'),
    param: list[str] = PARAM_OPTION,
    executor: str = typer.Option("local", "--executor", "-x", help="local, ray or kubernetes."),
) -> None:
    """Run a pipeline on a cron schedule (fired by `stead scheduler`).

    Example: stead schedule add weekly --cron "0 0 * * 0" examples/churn/pipeline.py:train_pipeline -p lr=0.1
    """
    import os

    from stead.pipelines.schedule import add_schedule

    target, sep, fn = pipeline.rpartition(":")
    if sep and target.endswith(".py"):
        pipeline = f"{os.path.abspath(target)}:{fn}"
    schedule = add_schedule(_store(), name, pipeline, cron, parse_params(param), executor=executor)
    success(f"schedule {schedule.name!r} runs {schedule.source} at {schedule.cron!r} (UTC)")


def _utc(ms: int | None) -> str:
    """Cron expressions are UTC, so their fire times are shown in UTC too."""
    from datetime import datetime, timezone

    return "" if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List schedules with their last and next fire times (UTC).

    Example: stead schedule list
    """
    from stead.pipelines.records import now_ms
    from stead.pipelines.schedule import upcoming

    listed = upcoming(_store(), now_ms())
    if as_json:
        print_json([{**s.to_json(), "last_fire_time": last, "next_fire_time": nxt} for s, last, nxt in listed])
        return
    rows = [(s.name, s.cron, s.source, s.params, s.executor, _utc(last), _utc(nxt) if nxt else "never")
            for s, last, nxt in listed]
    print_table("Schedules", ["name", "cron", "pipeline", "params", "executor", "last fire", "next fire"], rows)


@app.command("remove")
def remove(name: str = typer.Argument(..., help="The schedule to remove.")) -> None:
    """Remove a schedule (its past runs stay).

    Example: stead schedule remove weekly
    """
    from stead.pipelines.schedule import remove_schedule

    remove_schedule(_store(), name)
    success(f"schedule {name!r} removed")

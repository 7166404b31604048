"""``stead scheduler``: the long-running process that fires pipeline schedules."""

from __future__ import annotations

import typer

from stead.cli.common import settings

app = typer.Typer(invoke_without_command=True)


@app.callback()
def scheduler(
    once: bool = typer.Option(False, "--once", help="Fire what is due now, then exit (for cron or tests)."),
    max_sleep: float = typer.Option(30.0, "--max-sleep", help="Re-read schedules at least this often (s)."),
    log_format: str = typer.Option("text", "--log-format", help="text, or json: one JSON object a line on stderr."),
) -> None:
    """Fire schedules on time; safe to restart and to run on several machines at once.

    Each fire time is claimed with a unique database row, so no run starts twice. After
    downtime only the most recent missed fire of each schedule runs; older ones are
    recorded as MISSED.

    Example: stead scheduler

    Example: stead scheduler --log-format json
    """
    import signal
    import threading

    from stead.pipelines.records import now_ms
    from stead.pipelines.store import open_pipeline_store
    from stead.logs import configure, say
    from stead.pipelines.schedule import Fire, launch_subprocess, run_scheduler, tick

    configure(log_format)
    store = open_pipeline_store(settings())

    def report(fire: Fire) -> None:
        say("stead.scheduler", f"started run {fire.run_id} for schedule {fire.schedule!r}", schedule=fire.schedule,
            run_id=fire.run_id, fire_time=fire.fire_time)

    if once:
        for fire in tick(store, now_ms(), launch_subprocess(settings())):
            report(fire)
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    say("stead.scheduler", "stead scheduler running; Ctrl-C to stop")
    run_scheduler(settings(), store, stop=stop, max_sleep=max_sleep, on_fire=report)

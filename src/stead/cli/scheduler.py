"""``stead scheduler``: the long-running process that fires pipeline schedules."""

from __future__ import annotations

import typer

from stead.cli.common import settings
from stead.cli.output import console

app = typer.Typer(invoke_without_command=True)


@app.callback()
def scheduler(
    once: bool = typer.Option(False, "--once", help="Fire what is due now, then exit (for cron or tests)."),
    max_sleep: float = typer.Option(30.0, "--max-sleep", help="Re-read schedules at least this often (s)."),
) -> None:
    """Fire schedules on time; safe to restart and to run on several machines at once.

    Each fire time is claimed with a unique database row, so no run starts twice. After
    downtime only the most recent missed fire of each schedule runs; older ones are
    recorded as MISSED.

    Example: stead scheduler
    """
    import signal
    import threading

    from stead.pipelines.records import now_ms
    from stead.pipelines.runner import open_pipeline_store
    from stead.pipelines.schedule import Fire, launch_subprocess, run_scheduler, tick

    store = open_pipeline_store(settings())

    def report(fire: Fire) -> None:
        console().print(f"started run {fire.run_id} for schedule {fire.schedule!r}", highlight=False)

    if once:
        for fire in tick(store, now_ms(), launch_subprocess(settings())):
            report(fire)
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console().print("stead scheduler running; Ctrl-C to stop", highlight=False)
    run_scheduler(settings(), store, stop=stop, max_sleep=max_sleep, on_fire=report)

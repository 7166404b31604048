"""Start a pipeline run in its own process: what the server's ``POST /pipelines/runs`` and a
monitor's ``run:FILE.py:PIPELINE`` alert action both do.

``start_run`` checks the parameters against the pipeline (a bad one fails now, not in the
child), records the run as PENDING and launches ``stead pipeline run ... --run-id ID`` with
the settings in its environment (``stead.config.child_environment``); the child adopts the
pending run. Its output goes to ``<home>/<logs>/<run id>.log``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.pipelines.records import PipelineRun

__all__ = ["start_run", "launch"]


def start_run(settings: "Settings", source: str, params: Mapping[str, Any] | None = None, *,
              executor: str = "local", no_cache: bool = False, trigger: str = "api",
              logs: str = "pipeline-api") -> "PipelineRun":
    """Record a PENDING run of the pipeline ``source`` (``file.py:name``) and launch it."""
    from stead.pipelines.loader import load_pipeline
    from stead.pipelines.records import PipelineRecords, PipelineRun, RunStatus, now_ms
    from stead.pipelines.store import open_pipeline_store

    pipeline = load_pipeline(source)
    resolved = pipeline.resolve_params(dict(params or {}))
    run = PipelineRun(uuid.uuid4().hex, pipeline.name, source, resolved, executor, RunStatus.PENDING, now_ms(),
                      no_cache=no_cache, trigger=trigger)
    PipelineRecords(open_pipeline_store(settings)).create_pending(run)
    launch(settings, run, logs=logs)
    return run


def launch(settings: "Settings", run: "PipelineRun", *, logs: str = "pipeline-api") -> None:
    """Start ``stead pipeline run`` for the pending ``run`` as a process of its own session."""
    from stead.config import child_environment

    args = [sys.executable, "-c", "from stead.cli.main import run; run()", "pipeline", "run", run.source,
            "--run-id", run.run_id, "--trigger", run.trigger, "-x", run.executor]
    if run.no_cache:
        args.append("--no-cache")
    for key, value in run.params.items():
        args += ["-p", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    folder = Path(settings.home) / logs
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{run.run_id}.log", "ab") as out:
        subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=child_environment(settings),
                         start_new_session=True)

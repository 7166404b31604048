"""``stead pipeline``: run, resume and inspect pipelines; render them for Kubernetes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

from stead.cli.common import JSON_OPTION, settings
from stead.cli.output import console, err_console, fmt_time, print_json, print_table
from stead.errors import InvalidParameter

app = typer.Typer(no_args_is_help=True)

PARAM_OPTION = typer.Option(None, "--param", "-p", help="A pipeline parameter NAME=VALUE (repeatable).")

_STATUS_STYLE = {
    "SUCCEEDED": "green", "CACHED": "cyan", "RUNNING": "yellow", "PENDING": "dim", "SKIPPED": "dim",
    "FAILED": "red", "UPSTREAM_FAILED": "red", "CANCELLED": "magenta",
}


def parse_params(items: list[str] | None) -> dict[str, str]:
    """``["lr=0.1", "name=x"]`` to a dict; values are converted by the pipeline's annotations."""
    params: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidParameter(f"Parameter {item!r} must look like NAME=VALUE, e.g. -p lr=0.1")
        params[name.strip()] = value
    return params


def _records():  # type: ignore[no-untyped-def]
    from stead.pipelines.records import PipelineRecords
    from stead.pipelines.store import open_pipeline_store

    return PipelineRecords(open_pipeline_store(settings()))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


def _print_run(run: Any, *, max_rows: int = 40) -> None:
    from collections import Counter

    from rich.markup import escape

    counts = Counter(s.status for s in run.steps)
    rows = run.steps
    if len(rows) > max_rows:
        rows = [s for s in rows if s.status not in ("SUCCEEDED", "CACHED")][:max_rows]
    if rows:
        print_table(
            f"Pipeline {run.pipeline} run {run.run_id}",
            ["step", "status", "cache", "attempt", "duration", "tracking run", "error"],
            [
                (s.step_id, s.status, "hit" if s.cache_hit else "", s.attempt or "", _duration(s.duration),
                 s.tracking_run_id or "", (s.error or "")[:120])
                for s in rows
            ],
        )
    summary = ", ".join(f"{n} {status.lower()}" for status, n in sorted(counts.items()))
    style = _STATUS_STYLE.get(run.status, "white")
    console().print(
        f"[{style}]{run.status}[/{style}] run {run.run_id} of {run.pipeline}: {len(run.steps)} steps "
        f"({summary}; {counts.get('CACHED', 0)} cache hits) in {_duration(run.duration)}",
        highlight=False,
        soft_wrap=True,
    )
    if run.error:
        console().print(f"[red]{escape(run.error)}[/red]", highlight=False, soft_wrap=True)


def _finish(run: Any, as_json: bool) -> None:
    if as_json:
        print_json(run.to_json())
    else:
        _print_run(run)
    if run.status == "CANCELLED":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)  # threads still running a cancelled step must not keep the process alive
    if run.status != "SUCCEEDED":
        sys.exit(1)  # typer.Exit's code is dropped by stead.cli.main.run (standalone_mode=False)


@app.command("run")
def run(
    ref: str = typer.Argument(..., help="The pipeline: path/to/file.py:name or package.module:name."),
    param: list[str] = PARAM_OPTION,
    executor: str = typer.Option("local", "--executor", "-x", help="local, ray or kubernetes."),
    max_parallel: int = typer.Option(None, "--max-parallel", "-j", help="At most this many steps at once."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step even if its outputs are cached."),
    ray_address: str = typer.Option(None, "--ray-address", help="Ray cluster address (host:port), for -x ray."),
    ray_resource_timeout: float = typer.Option(
        30.0, "--ray-resource-timeout", min=0.0,
        help="Seconds a step waits for a Ray node with the CPUs, GPUs, memory or custom resources it asks for "
             "before it fails (for -x ray; raise it when an autoscaler adds nodes)."),
    image: str = typer.Option(None, "--image", help="Container image, for -x kubernetes."),
    namespace: str = typer.Option("default", "--namespace", help="Kubernetes namespace, for -x kubernetes."),
    run_id: str = typer.Option(None, "--run-id", help="Adopt this PENDING run id (used by the scheduler and API)."),
    trigger: str = typer.Option("manual", "--trigger", hidden=True),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a pipeline; steps whose code, parameters and inputs are unchanged come from the cache.

    Example: stead pipeline run examples/churn/pipeline.py:train_pipeline -p lr=0.1
    """
    from stead.pipelines.loader import load_pipeline
    from stead.pipelines.runner import run_pipeline

    options: dict[str, Any] = {}
    if executor == "ray":
        options["resource_timeout"] = ray_resource_timeout
        if ray_address:
            options["address"] = ray_address
    if executor == "kubernetes":
        options.update({"image": image, "namespace": namespace})  # run_pipeline adds its settings
    pipeline = load_pipeline(ref)
    result = run_pipeline(
        pipeline,
        parse_params(param),
        settings=settings(),
        executor=executor,
        executor_options=options,
        max_parallel=max_parallel,
        no_cache=no_cache,
        run_id=run_id,
        trigger=trigger,
    )
    _finish(result, as_json)


@app.command("resume")
def resume(
    run_id: str = typer.Argument(..., help="A FAILED or CANCELLED pipeline run (id or unique prefix)."),
    executor: str = typer.Option(None, "--executor", "-x", help="Default: the run's own executor."),
    max_parallel: int = typer.Option(None, "--max-parallel", "-j"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Continue a failed or cancelled run: steps that succeeded are reused, the rest run.

    Example: stead pipeline resume 3f2a9c
    """
    from stead.pipelines.runner import resume_pipeline

    _finish(resume_pipeline(run_id, settings=settings(), executor=executor, max_parallel=max_parallel), as_json)


@app.command("runs")
def runs(
    pipeline: str = typer.Option(None, "--pipeline", help="Only runs of this pipeline (by name)."),
    limit: int = typer.Option(50, "--max", help="At most this many runs."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List pipeline runs, newest first.

    Example: stead pipeline runs --pipeline train_pipeline
    """
    found = _records().list(pipeline, limit)
    if as_json:
        print_json([r.to_json() for r in found])
        return
    print_table(
        "Pipeline runs",
        ["run id", "pipeline", "status", "trigger", "executor", "created", "duration"],
        [(r.run_id, r.pipeline, r.status, r.trigger, r.executor, fmt_time(r.created_time), _duration(r.duration))
         for r in found],
    )


@app.command("show")
def show(run_id: str = typer.Argument(..., help="Run id or unique prefix."), as_json: bool = JSON_OPTION) -> None:
    """Show a run: every step's status, cache hit, attempts, duration, outputs and error.

    Example: stead pipeline show 3f2a9c
    """
    found = _records().get(run_id, with_logs=as_json)
    if as_json:
        print_json(found.to_json())
        return
    console().print(f"params: {found.params}", highlight=False)
    _print_run(found, max_rows=1000)


@app.command("logs")
def logs(
    run_id: str = typer.Argument(..., help="Run id or unique prefix."),
    step: str = typer.Argument(None, help="Only this step."),
) -> None:
    """Print the captured output (prints, tracebacks) of a run's steps.

    Example: stead pipeline logs 3f2a9c train
    """
    found = _records().get(run_id)
    steps = [found.step(step)] if step else found.steps
    for s in steps:
        if s.logs or step:
            console().rule(f"{s.step_id} [{s.status}]")
            sys.stdout.write(s.logs if s.logs.endswith("\n") or not s.logs else s.logs + "\n")


@app.command("graph")
def graph(
    target: str = typer.Argument(..., help="A run id, or a pipeline reference file.py:name."),
    param: list[str] = PARAM_OPTION,
) -> None:
    """Draw the DAG in the terminal, with each step's status when given a run.

    Example: stead pipeline graph 3f2a9c
    """
    from stead.pipelines.render_tree import graph_tree

    if ":" in target:
        from stead.pipelines.loader import load_pipeline

        described = load_pipeline(target).build(parse_params(param)).describe()
        statuses: dict[str, Any] = {}
    else:
        found = _records().get(target, with_logs=False)
        described = found.graph
        statuses = {s.step_id: s for s in found.steps}
    console().print(graph_tree(described, statuses))


@app.command("render")
def render(
    ref: str = typer.Argument(..., help="The pipeline: path/to/file.py:name or package.module:name."),
    param: list[str] = PARAM_OPTION,
    target: str = typer.Option("kubernetes", "--target", help="Only kubernetes for now."),
    image: str = typer.Option(..., "--image", help="Container image with stead and the pipeline code."),
    namespace: str = typer.Option("default", "--namespace"),
    output: Path = typer.Option(None, "--output", "-o", help="Write here (default: stdout)."),
    run_id: str = typer.Option(None, "--run-id", help="Run id the Jobs record under (default: a new one)."),
) -> None:
    """Write one Kubernetes Job per step (image, resources, store URLs, non-root).

    Example: stead pipeline render examples/churn/pipeline.py:train_pipeline --image me/churn:1 -o jobs.yaml
    """
    import uuid

    import yaml

    from stead.pipelines.executors.kubernetes import render_jobs
    from stead.pipelines.loader import load_pipeline, source_of

    if target != "kubernetes":
        raise InvalidParameter(f"Unknown render target {target!r}; use --target kubernetes")
    pipeline = load_pipeline(ref)
    graph_ = pipeline.build(parse_params(param))
    jobs = render_jobs(
        graph_, run_id=run_id or uuid.uuid4().hex, source=source_of(pipeline), image=image,
        settings=settings(), namespace=namespace,
    )
    text = yaml.safe_dump_all(jobs, sort_keys=False)
    if output:
        output.write_text(text)
        err_console().print(f"wrote {len(jobs)} Jobs to {output}")
    else:
        sys.stdout.write(text)


@app.command("exec-step", hidden=True)
def exec_step(
    ref: str = typer.Argument(...),
    run_id: str = typer.Option(..., "--run-id"),
    step: str = typer.Option(..., "--step"),
    param: list[str] = PARAM_OPTION,
) -> None:
    """Run one step of a run in this process (what a Kubernetes Job's container runs).

    Example: stead pipeline exec-step file.py:p --run-id 3f2a --step train
    """
    from stead.pipelines.executors.kubernetes import exec_step as run_step

    if not run_step(ref, run_id=run_id, step_id=step, params=parse_params(param), settings=settings()):
        sys.exit(1)

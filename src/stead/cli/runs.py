"""``stead runs``: list, show, compare, delete and restore runs."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

import typer

from stead.cli.common import JSON_OPTION, tracking_client
from stead.cli.output import console, fmt_time, print_json, print_table, success

app = typer.Typer(no_args_is_help=True)


def _run_json(run: Any) -> dict[str, Any]:
    info = asdict(run.info)
    info["status"] = run.info.status.value
    return {
        "info": info,
        "params": run.data.params,
        "metrics": {k: {"value": m.value, "step": m.step, "timestamp": m.timestamp} for k, m in run.data.metrics.items()},
        "tags": run.data.tags,
        "inputs": [asdict(i) for i in run.inputs],
    }


def _duration(run: Any) -> str:
    if not run.info.end_time:
        return ""
    return f"{(run.info.end_time - run.info.start_time) / 1000:.1f}s"


@app.command("list")
def list_runs(
    experiment: str = typer.Option("Default", "--experiment", "-e", help="Experiment name or id."),
    filter_string: str = typer.Option(None, "--filter", "-f", help="e.g. \"metrics.acc > 0.9 and params.lr = '0.01'\""),
    order_by: list[str] = typer.Option(None, "--order-by", "-o", help="e.g. 'metrics.acc DESC' (repeatable)."),
    max_results: int = typer.Option(50, "--max", help="At most this many runs."),
    deleted: bool = typer.Option(False, "--deleted", help="List deleted runs instead."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the runs of an experiment, newest first, with their metrics.

    Example: stead runs list -e churn -f "metrics.accuracy > 0.8" -o "metrics.accuracy DESC"
    """
    from stead.tracking.records import ViewType

    client = tracking_client()
    exp = client.resolve_experiment(experiment)
    view = ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY
    page = client.search_runs([exp.experiment_id], filter_string, view, max_results, order_by or None)
    if as_json:
        print_json([_run_json(r) for r in page.items])
        return
    metric_keys = sorted({k for r in page.items for k in r.data.metrics})[:6]
    print_table(
        f"Runs of {exp.name!r}",
        ["run id", "name", "status", "started", "duration", *metric_keys],
        [
            (
                r.info.run_id,
                r.info.run_name,
                r.info.status.value,
                fmt_time(r.info.start_time),
                _duration(r),
                *(r.data.metrics[k].value if k in r.data.metrics else None for k in metric_keys),
            )
            for r in page.items
        ],
    )


@app.command("show")
def show(
    run_id: str = typer.Argument(..., help="The run id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one run: info, params, latest metrics, tags and artifacts.

    Example: stead runs show 3f2a9c0d1e4b4f5a8e7d6c5b4a3f2e1d
    """
    client = tracking_client()
    run = client.get_run(run_id)
    if as_json:
        print_json(_run_json(run))
        return
    i = run.info
    console().print(
        f"[bold]{i.run_name}[/bold] ({i.run_id})  experiment {i.experiment_id}  "
        f"[bold]{i.status.value}[/bold]  started {fmt_time(i.start_time)}  {_duration(run)}"
    )
    if i.parent_run_id:
        console().print(f"parent run: {i.parent_run_id}")
    console().print(f"artifacts: {i.artifact_uri}")
    print_table("Params", ["key", "value"], sorted(run.data.params.items()))
    print_table(
        "Metrics (latest)",
        ["key", "value", "step"],
        [(k, m.value, m.step) for k, m in sorted(run.data.metrics.items())],
    )
    print_table("Tags", ["key", "value"], sorted(run.data.tags.items()))
    try:
        files = client.list_artifacts(run_id)
    except Exception:  # artifacts may live where this machine cannot reach; the run is still shown
        files = []
    if files:
        print_table("Artifacts", ["path", "size"], [(f.path, "dir" if f.is_dir else f.size) for f in files])
    for inp in run.inputs:
        console().print(f"input: {inp.uri or inp.name} ({inp.context})")
    text = _output(client, run)
    if text is not None:
        lines = text.splitlines()
        shown = lines[-_TAIL:]
        more = f"last {len(shown)} of {len(lines)} lines; " if len(lines) > len(shown) else ""
        console().rule(f"output ({more}all of it: stead runs output {i.run_id})")
        sys.stdout.write("\n".join(shown) + ("\n" if shown else ""))


_TAIL = 20


def _output(client: Any, run: Any) -> str | None:
    """The run's captured stdout and stderr (``start_run(capture_output=True)``), if any."""
    from stead.tracking.capture import OUTPUT_TAG

    path = run.data.tags.get(OUTPUT_TAG)
    if not path:
        return None
    try:
        return client.run_artifacts(run.info.run_id).get_bytes(path).decode("utf-8", "replace")
    except Exception:  # artifacts may live where this machine cannot reach; the run is still shown
        return None


@app.command("output")
def output(run_id: str = typer.Argument(..., help="The run id.")) -> None:
    """Print what a run printed (its stdout and stderr, kept by start_run(capture_output=True)).

    Example: stead runs output 3f2a9c0d1e4b4f5a8e7d6c5b4a3f2e1d
    """
    from stead.errors import NotFound

    client = tracking_client()
    text = _output(client, client.get_run(run_id))
    if text is None:
        raise NotFound(f"Run {run_id} has no captured output; start runs with stead.start_run(capture_output=True)")
    sys.stdout.write(text)


@app.command("compare")
def compare(
    run_ids: list[str] = typer.Argument(..., help="Two or more run ids."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Compare runs side by side: params that differ and every metric.

    Example: stead runs compare 3f2a9c... 8b1e2d...
    """
    from stead.errors import InvalidParameter

    if len(run_ids) < 2:
        raise InvalidParameter("Give at least two run ids to compare")
    client = tracking_client()
    found = [client.get_run(r) for r in run_ids]
    if as_json:
        print_json([_run_json(r) for r in found])
        return
    param_keys = sorted({k for r in found for k in r.data.params})
    metric_keys = sorted({k for r in found for k in r.data.metrics})
    rows: list[tuple[Any, ...]] = [("name", *(r.info.run_name for r in found))]
    rows.append(("status", *(r.info.status.value for r in found)))
    for k in param_keys:
        values = [r.data.params.get(k) for r in found]
        marker = "" if len(set(values)) == 1 else " *"
        rows.append((f"params.{k}{marker}", *values))
    for k in metric_keys:
        rows.append((f"metrics.{k}", *(r.data.metrics[k].value if k in r.data.metrics else None for r in found)))
    print_table("Comparison (* = differs)", ["", *(r.info.run_id[:12] for r in found)], rows)


@app.command("delete")
def delete(run_id: str = typer.Argument(..., help="The run id.")) -> None:
    """Delete a run (restorable with `stead runs restore`).

    Example: stead runs delete 3f2a9c0d1e4b4f5a8e7d6c5b4a3f2e1d
    """
    tracking_client().delete_run(run_id)
    success(f"Deleted run {run_id}")


@app.command("restore")
def restore(run_id: str = typer.Argument(..., help="The run id.")) -> None:
    """Restore a deleted run.

    Example: stead runs restore 3f2a9c0d1e4b4f5a8e7d6c5b4a3f2e1d
    """
    tracking_client().restore_run(run_id)
    success(f"Restored run {run_id}")


@app.command("history")
def history(
    run_id: str = typer.Argument(..., help="The run id."),
    key: str = typer.Argument(..., help="The metric key."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print every point of one metric of a run.

    Example: stead runs history 3f2a9c0d1e4b4f5a8e7d6c5b4a3f2e1d loss
    """
    points = tracking_client().get_metric_history(run_id, key).items
    if as_json:
        print_json([{"step": p.step, "value": p.value, "timestamp": p.timestamp} for p in points])
        return
    print_table(f"{key} of run {run_id}", ["step", "value", "time"], [(p.step, p.value, fmt_time(p.timestamp)) for p in points])

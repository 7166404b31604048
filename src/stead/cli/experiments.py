"""``stead experiments``: create, list, rename, delete and restore experiments."""

from __future__ import annotations

from dataclasses import asdict

import typer

from stead.cli.common import JSON_OPTION, tracking_client
from stead.cli.output import fmt_time, print_json, print_table, success

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_experiments(
    deleted: bool = typer.Option(False, "--deleted", help="List deleted experiments instead."),
    all_: bool = typer.Option(False, "--all", help="List active and deleted experiments."),
    filter_string: str = typer.Option(None, "--filter", help="MLflow filter, e.g. \"name LIKE 'churn%'\"."),
    max_results: int = typer.Option(1000, "--max", help="At most this many."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List experiments.

    Example: stead experiments list --filter "name LIKE 'churn%'"
    """
    from stead.tracking.records import ViewType

    view = ViewType.ALL if all_ else ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY
    page = tracking_client().search_experiments(view, max_results, filter_string)
    if as_json:
        print_json([asdict(e) for e in page.items])
        return
    print_table(
        "Experiments",
        ["id", "name", "stage", "created", "artifact location"],
        [
            (e.experiment_id, e.name, e.lifecycle_stage, fmt_time(e.creation_time), e.artifact_location)
            for e in page.items
        ],
    )


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Name of the new experiment."),
    artifact_location: str = typer.Option(None, "--artifact-location", help="Where its artifacts go."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an experiment.

    Example: stead experiments create churn
    """
    experiment_id = tracking_client().create_experiment(name, artifact_location)
    if as_json:
        print_json({"experiment_id": experiment_id, "name": name})
    else:
        success(f"Created experiment {name!r} with id {experiment_id}")


def _resolve_id(name_or_id: str) -> str:
    client = tracking_client()
    found = client.get_experiment_by_name(name_or_id)
    if found is not None:
        return found.experiment_id
    return client.get_experiment(name_or_id).experiment_id


@app.command("rename")
def rename(
    experiment: str = typer.Argument(..., help="Name or id of the experiment."),
    new_name: str = typer.Argument(..., help="Its new name."),
) -> None:
    """Rename an experiment.

    Example: stead experiments rename churn churn-2026
    """
    experiment_id = _resolve_id(experiment)
    tracking_client().rename_experiment(experiment_id, new_name)
    success(f"Renamed experiment {experiment_id} to {new_name!r}")


@app.command("delete")
def delete(experiment: str = typer.Argument(..., help="Name or id of the experiment.")) -> None:
    """Delete an experiment and its runs (restorable with `stead experiments restore`).

    Example: stead experiments delete churn
    """
    experiment_id = _resolve_id(experiment)
    tracking_client().delete_experiment(experiment_id)
    success(f"Deleted experiment {experiment_id}; `stead experiments restore {experiment_id}` undoes it")


@app.command("restore")
def restore(experiment: str = typer.Argument(..., help="Name or id of the experiment.")) -> None:
    """Restore a deleted experiment and its runs.

    Example: stead experiments restore 3
    """
    experiment_id = _resolve_id(experiment)
    tracking_client().restore_experiment(experiment_id)
    success(f"Restored experiment {experiment_id}")

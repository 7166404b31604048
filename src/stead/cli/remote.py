"""``stead remote``: name the places data is pushed to and pulled from."""

from __future__ import annotations

import typer

from stead.cli.common import JSON_OPTION, settings
from stead.cli.output import print_json, print_table, success

app = typer.Typer(no_args_is_help=True)


def _config():  # type: ignore[no-untyped-def]
    from stead.data.remotes import RemoteConfig
    from stead.data.workspace import Workspace

    return RemoteConfig(Workspace.from_settings(settings()).home)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="A short name, e.g. origin."),
    url: str = typer.Argument(..., help="A folder path or s3://bucket/prefix."),
    default: bool = typer.Option(False, "--default", "-d", help="Make it the default remote."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace a remote of that name."),
) -> None:
    """Add a data remote (the first one added is the default).

    Example: stead remote add origin s3://my-bucket/stead-data
    """
    _config().add(name, url, default=default, force=force)
    success(f"Added remote {name!r} -> {url}")


@app.command("list")
def list_remotes(as_json: bool = JSON_OPTION) -> None:
    """List the data remotes.

    Example: stead remote list --json
    """
    remotes, default = _config().load()
    if as_json:
        print_json([{"name": n, "url": u, "default": n == default} for n, u in remotes.items()])
        return
    print_table("Remotes", ["name", "url", "default"], [(n, u, "*" if n == default else "") for n, u in remotes.items()])


@app.command("remove")
def remove(name: str = typer.Argument(..., help="The remote's name.")) -> None:
    """Remove a data remote (its objects are left where they are).

    Example: stead remote remove origin
    """
    _config().remove(name)
    success(f"Removed remote {name!r}")

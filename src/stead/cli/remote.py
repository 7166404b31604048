"""``stead remote``: name the places data is pushed to and pulled from."""

from __future__ import annotations

import typer

from stead.cli.common import JSON_OPTION, settings
from stead.cli.output import print_json, print_table, success

app = typer.Typer(no_args_is_help=True)

LOCAL_OPTION = typer.Option(
    False, "--local", "-l", help="This home only (remotes.toml): an override of the team's remotes."
)


def _remotes():  # type: ignore[no-untyped-def]
    from stead.data.remote_config import Remotes

    return Remotes(settings())


@app.command("add")
def add(
    name: str = typer.Argument(..., help="A short name, e.g. origin."),
    url: str = typer.Argument(..., help="A folder path or s3://bucket/prefix."),
    default: bool = typer.Option(False, "--default", "-d", help="Make it the default remote."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace a remote of that name."),
    local: bool = LOCAL_OPTION,
) -> None:
    """Add a data remote for the whole team (kept in the metadata store; the first one is the
    default), or with --local for this home only.

    Example: stead remote add origin s3://my-bucket/stead-data
    """
    recorded = _remotes().add(name, url, default=default, force=force, local=local)
    success(f"Added remote {name!r} -> {recorded}" + (" (this home only)" if local else ""))


@app.command("list")
def list_remotes(as_json: bool = JSON_OPTION) -> None:
    """List the data remotes: the team's and this home's (which override them).

    Example: stead remote list --json
    """
    rows = _remotes().listing()
    if as_json:
        print_json(rows)
        return
    print_table("Remotes", ["name", "url", "default", "scope"],
                [(r["name"], r["url"], "*" if r["default"] else "",
                  f"{r['scope']} (overrides the team's)" if r["overrides"] else r["scope"]) for r in rows])


@app.command("remove")
def remove(name: str = typer.Argument(..., help="The remote's name."), local: bool = LOCAL_OPTION) -> None:
    """Remove a data remote (its objects are left where they are).

    Example: stead remote remove origin
    """
    _remotes().remove(name, local=local)
    success(f"Removed remote {name!r}" + (" from this home" if local else ""))

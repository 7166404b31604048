"""``stead users``: accounts and permissions of a stead server with ``--auth``.

Works on the metadata store directly (run it where the server's store is reachable).
There are no default accounts: create the first admin with ``stead users create NAME --admin``.
"""

from __future__ import annotations

import sys

import typer

from stead.cli.common import JSON_OPTION

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


def _service(store_url: str | None):  # type: ignore[no-untyped-def]
    from stead.cli.common import settings
    from stead.server.users import UserService
    from stead.store import open_store

    return UserService(open_store(store_url or settings().resolved_store_url))


STORE_OPTION = typer.Option(None, "--store-url", help="Metadata store URL (default: from settings).")


def _read_password(password_stdin: bool) -> str:
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command()
def create(
    name: str = typer.Argument(..., help="User name."),
    admin: bool = typer.Option(False, "--admin", help="Make the user an admin (may do everything)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    store_url: str = STORE_OPTION,
) -> None:
    """Create a user; the password is prompted for (or read from stdin), never an argument.

    Example: stead users create alice --admin
    """
    user = _service(store_url).create_user(name, _read_password(password_stdin), admin=admin)
    typer.echo(f"created user {user.username}{' (admin)' if user.is_admin else ''}")


@app.command("list")
def list_users(store_url: str = STORE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List users.

    Example: stead users list --json
    """
    from stead.cli.output import print_json, print_table

    rows = [{"name": u.username, "admin": u.is_admin} for u in _service(store_url).list_users()]
    if as_json:
        print_json(rows)
    else:
        print_table("Users", ["name", "admin"], [[r["name"], "yes" if r["admin"] else ""] for r in rows])


@app.command()
def delete(name: str = typer.Argument(..., help="User name."), store_url: str = STORE_OPTION) -> None:
    """Delete a user with their tokens and permissions (every server on this store refuses
    them from the next request on).

    Example: stead users delete alice
    """
    _service(store_url).delete_user(name)
    typer.echo(f"deleted user {name}")


@app.command()
def grant(
    name: str = typer.Argument(..., help="User name."),
    level: str = typer.Argument(..., help="READ, EDIT or MANAGE."),
    experiment: str = typer.Option(None, "--experiment", help="Experiment id."),
    model: str = typer.Option(None, "--model", help="Registered model name."),
    store_url: str = STORE_OPTION,
) -> None:
    """Give a user a permission on an experiment or a registered model.

    Example: stead users grant alice EDIT --experiment 3
    """
    from stead.errors import InvalidParameter

    if not experiment and not model:
        raise InvalidParameter("Name what to grant on: --experiment ID or --model NAME")
    _service(store_url).grant(name, experiment_id=experiment, registered_model=model, level=level)
    typer.echo(f"granted {level.upper()} to {name}")


@app.command()
def revoke(
    name: str = typer.Argument(..., help="User name."),
    experiment: str = typer.Option(None, "--experiment", help="Experiment id."),
    model: str = typer.Option(None, "--model", help="Registered model name."),
    store_url: str = STORE_OPTION,
) -> None:
    """Take a user's permission on an experiment or registered model away.

    Example: stead users revoke alice --experiment 3
    """
    _service(store_url).revoke(name, experiment_id=experiment, registered_model=model)
    typer.echo(f"revoked permission of {name}")


@app.command("set-password")
def set_password(
    name: str = typer.Argument(..., help="User name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    store_url: str = STORE_OPTION,
) -> None:
    """Change a user's password; the old one stops working at once on every server process.

    Example: stead users set-password alice
    """
    _service(store_url).set_password(name, _read_password(password_stdin))
    typer.echo(f"password of {name} changed")

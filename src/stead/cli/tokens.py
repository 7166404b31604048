"""``stead tokens``: API tokens for a stead server with ``--auth`` (sent as bearer tokens,
e.g. ``MLFLOW_TRACKING_TOKEN`` or ``STEAD_TRACKING_TOKEN``)."""

from __future__ import annotations

import typer

from stead.cli.common import JSON_OPTION
from stead.cli.users import STORE_OPTION, _service

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


@app.command()
def create(
    user: str = typer.Argument(..., help="The user the token acts as."),
    name: str = typer.Option("default", "--name", help="A label to recognise the token by."),
    store_url: str = STORE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a token; it is printed once and cannot be shown again.

    Example: stead tokens create alice --name laptop
    """
    token_id, token = _service(store_url).create_token(user, name)
    if as_json:
        from stead.cli.output import print_json

        print_json({"id": token_id, "token": token})
    else:
        typer.echo(f"token {token_id} for {user}: {token}")


@app.command("list")
def list_tokens(
    user: str = typer.Option(None, "--user", help="Only this user's tokens."),
    store_url: str = STORE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List tokens (never their secret).

    Example: stead tokens list --user alice
    """
    from stead.cli.output import fmt_time, print_json, print_table

    rows = _service(store_url).list_tokens(user)
    if as_json:
        print_json(rows)
    else:
        print_table("Tokens", ["id", "user", "name", "created", "revoked"],
                    [[r["id"], r["user"], r["name"], fmt_time(r["created_time"]), "yes" if r["revoked"] else ""]
                     for r in rows])


@app.command()
def revoke(token_id: int = typer.Argument(..., help="Token id (see `stead tokens list`)."),
           store_url: str = STORE_OPTION) -> None:
    """Revoke a token; requests using it are refused from the next one on, by every server
    process on this store.

    Example: stead tokens revoke 3
    """
    _service(store_url).revoke_token(token_id)
    typer.echo(f"revoked token {token_id}")

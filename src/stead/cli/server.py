"""``stead server``: the MLflow-compatible tracking server on uvicorn."""

from __future__ import annotations

import importlib.util
import os
import sys

import typer

__all__ = ["app"]

app = typer.Typer(invoke_without_command=True, no_args_is_help=False)

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.callback()
def serve(
    host: str = typer.Option(None, "--host", help="Address to bind; 127.0.0.1 unless given."),
    port: int = typer.Option(5000, "--port", help="TCP port."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    auth: bool = typer.Option(False, "--auth", help="Require users or tokens (create one: stead users create)."),
    store_url: str = typer.Option(None, "--store-url", help="Metadata store URL (default: from settings)."),
    artifacts_url: str = typer.Option(None, "--artifacts-url", help="Artifact root (default: from settings)."),
) -> None:
    """Run the tracking server: MLflow REST API, artifact proxy, optional auth.

    Example: stead server --port 5000 --auth
    """
    import uvicorn

    from stead.cli.common import settings as load
    from stead.server.app import create_app

    settings = load().with_overrides(store_url=store_url, artifacts_url=artifacts_url)
    bind = host or "127.0.0.1"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    if auth:
        from stead.server.users import UserService
        from stead.store import open_store

        store = open_store(settings.resolved_store_url)
        if not any(u.is_admin for u in UserService(store).list_users()):
            typer.echo("warning: --auth is on but there is no admin yet; create one: stead users create NAME --admin",
                       err=True)
        store.dispose()
    typer.echo(
        f"stead server listening on http://{bind}:{port} ({workers} worker{'s' if workers > 1 else ''}, "
        f"auth {'on' if auth else 'off'}; store {settings.resolved_store_url}; "
        f"artifacts {settings.resolved_artifacts_url})"
    )
    if not auth and bind not in _LOOPBACK:
        typer.echo(
            f"warning: binding {bind} without --auth: anyone who can reach this address can read and change "
            "every experiment. Use --auth, or bind 127.0.0.1.",
            err=True,
        )
    sys.stdout.flush()
    common = dict(host=bind, port=port, http=http, loop=loop, log_level="warning", access_log=False,
                  timeout_keep_alive=30)
    if workers == 1:
        uvicorn.run(create_app(settings, auth=auth), **common)  # type: ignore[arg-type]
        return
    # Worker processes build their own app from the environment (settings + auth flag).
    os.environ["STEAD_STORE_URL"] = settings.resolved_store_url
    os.environ["STEAD_ARTIFACTS_URL"] = settings.resolved_artifacts_url
    os.environ["STEAD_HOME"] = str(settings.home)
    os.environ["STEAD_SERVER_AUTH"] = "1" if auth else "0"
    uvicorn.run("stead.server.app:app_factory", factory=True, workers=workers, **common)  # type: ignore[arg-type]

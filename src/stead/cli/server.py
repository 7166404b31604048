"""``stead server``: the MLflow-compatible tracking server on uvicorn.

Start-up time is part of the server's contract (healthy in well under 2 s), and typer with
pydantic costs ~0.35 s of it, so ``stead.cli.fast`` hands the plain forms of the command
line to ``fast_serve``, which reads them without typer. ``--help`` and anything it does not
recognise go through the typer command ``app`` (built on first use) as every other noun does.
Both read the options from one declaration, ``LINE`` (``stead.cli.plain``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stead.cli.plain import ALLOWED_HOSTS, ARTIFACTS_URL, STORE_URL, Line, Opt, lazy_app, parse_plain

if TYPE_CHECKING:
    import typer

__all__ = ["app", "fast_serve", "serve", "LINE"]

# The options of `stead server`, read by fast_serve and by the typer command alike.
LINE = Line((
    Opt("host", ("--host",), str, None, "Address to bind; 127.0.0.1 unless given."),
    Opt("port", ("--port",), int, 5000, "TCP port.", low=0, high=65535),
    Opt("workers", ("--workers",), int, 1, "Worker processes.", low=1),
    Opt("auth", ("--auth",), bool, False, "Require users or tokens (create one: stead users create)."),
    STORE_URL,
    ARTIFACTS_URL,
    Opt("log_format", ("--log-format",), str, "text",
        "text, or json: one JSON object a line on stderr, a line per request."),
    Opt("request_timeout", ("--request-timeout",), float, 60.0,
        "Seconds a request's headers or body may stop arriving (then 408).", low=0.1),
    ALLOWED_HOSTS,
    Opt("monitors", ("--monitors",), bool, True,
        "Run the due monitors and rollout decisions; --no-monitors leaves both to other replicas.",
        off=("--no-monitors",)),
))
_DOC = """Run the tracking server: MLflow REST API, artifact proxy, optional auth.

Example: stead server --port 5000 --auth

Example: stead server --host 0.0.0.0 --auth --log-format json

Example: stead server --host 0.0.0.0 --auth --allowed-hosts mlflow.example.com
"""


def serve(host: str | None = None, port: int = 5000, workers: int = 1, auth: bool = False,
          store_url: str | None = None, artifacts_url: str | None = None, log_format: str = "text",
          request_timeout: float = 60.0, allowed_hosts: str | None = None, monitors: bool = True) -> None:
    """Open the store, build the app and run uvicorn until stopped. A request whose headers
    or body stop arriving for ``request_timeout`` seconds is answered 408; a Host header not
    in ``allowed_hosts`` (default: the loopback names when bound to loopback) 400. With
    ``monitors`` each worker runs the due monitors (each period is claimed once)."""
    from stead.cli.workers import run_app
    from stead.config import load_settings
    from stead.hosts import allowed_hosts_for, is_loopback
    from stead.logs import configure, say
    from stead.server.app import AppFactory

    log_config = configure(log_format)
    settings = load_settings().with_overrides(store_url=store_url, artifacts_url=artifacts_url)
    bind = host or "127.0.0.1"
    hosts = allowed_hosts_for(bind, allowed_hosts or settings.allowed_hosts)
    http: Any = "h11"
    if importlib.util.find_spec("httptools"):
        from stead.server.protocol import HeaderDeadlineProtocol

        http = HeaderDeadlineProtocol  # httptools, with a deadline on request headers
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    if auth:
        from stead.server.users import UserService
        from stead.store import open_store

        store = open_store(settings.resolved_store_url)
        if not any(u.is_admin for u in UserService(store).list_users()):
            say("stead.server", "warning: --auth is on but there is no admin yet; create one: stead users create NAME "
                "--admin", warning=True)
        store.dispose()
    say(
        "stead.server",
        f"stead server listening on http://{bind}:{port} ({workers} worker{'s' if workers > 1 else ''}, "
        f"auth {'on' if auth else 'off'}; store {settings.resolved_store_url}; "
        f"artifacts {settings.resolved_artifacts_url})",
    )
    if not auth and not is_loopback(bind):
        say(
            "stead.server",
            f"warning: binding {bind} without --auth: anyone who can reach this address can read and change "
            "every experiment. Use --auth, or bind 127.0.0.1.",
            warning=True,
        )
    common: dict[str, Any] = dict(host=bind, port=port, http=http, loop=loop, log_level="warning",
                                  access_log=False, timeout_keep_alive=30)
    if log_config is not None:
        common["log_config"] = log_config  # applied again in each worker process
    factory = AppFactory(settings, auth=auth, request_timeout=request_timeout, header_deadline=http != "h11",
                         allowed_hosts=hosts, request_log=log_config is not None, monitors=monitors)
    run_app(factory, workers, **common)  # --workers N: each worker builds its app from the factory


def fast_serve(argv: Sequence[str]) -> int | None:
    """Run ``stead server <argv>`` without typer; None when typer must handle the line
    (``--help``, an unknown option, a value that is not a valid number: typer explains)."""
    parsed = parse_plain(argv, LINE)
    if parsed is None:
        return None
    serve(**parsed)
    return 0


def _build() -> "typer.Typer":
    import typer

    command = typer.Typer(invoke_without_command=True, no_args_is_help=False)
    command.callback()(LINE.typer(serve, doc=_DOC))
    return command


__getattr__ = lazy_app(__name__, _build)  # the typer command, built on first use

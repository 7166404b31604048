"""``stead server``: the MLflow-compatible tracking server on uvicorn.

Start-up time is part of the server's contract (healthy in well under 2 s), and typer with
pydantic costs ~0.35 s of it, so ``stead.cli.fast`` hands the plain forms of the command
line to ``fast_serve``, which reads them without typer. ``--help`` and anything it does not
recognise go through the typer command ``app`` (built on first use) as every other noun does.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stead.cli.fast import lazy_app, parse_plain

if TYPE_CHECKING:
    import typer

    from stead.cli.fast import Values

__all__ = ["app", "fast_serve", "serve", "worker_app", "json_logged_app"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_VALUES: "Values" = {
    "--host": ("host", str, None, None), "--port": ("port", int, 0, 65535), "--workers": ("workers", int, 1, None),
    "--store-url": ("store_url", str, None, None), "--artifacts-url": ("artifacts_url", str, None, None),
    "--log-format": ("log_format", str, None, None), "--request-timeout": ("request_timeout", float, 0.1, None),
    "--allowed-hosts": ("allowed_hosts", str, None, None),
}


def json_logged_app() -> Any:
    """For ``uvicorn --factory`` workers of ``--log-format json``: the app, with request logs."""
    from stead.logs import RequestLog

    return RequestLog(worker_app())


def worker_app() -> Any:
    """For ``uvicorn --factory`` workers: the app behind the Host allow-list the parent chose."""
    from stead.config import load_settings
    from stead.server.app import app_factory
    from stead.server.hosts import guard

    return guard(app_factory(), load_settings().allowed_hosts)


def serve(host: str | None = None, port: int = 5000, workers: int = 1, auth: bool = False,
          store_url: str | None = None, artifacts_url: str | None = None, log_format: str = "text",
          request_timeout: float = 60.0, allowed_hosts: str | None = None) -> None:
    """Open the store, build the app and run uvicorn until stopped. A request whose headers
    or body stop arriving for ``request_timeout`` seconds is answered 408; a Host header not
    in ``allowed_hosts`` (default: the loopback names when bound to loopback) 400."""
    import uvicorn

    from stead.config import load_settings
    from stead.logs import RequestLog, configure, say
    from stead.server.app import create_app
    from stead.server.hosts import allowed_hosts_for, guard

    log_config = configure(log_format)
    settings = load_settings().with_overrides(store_url=store_url, artifacts_url=artifacts_url)
    bind = host or "127.0.0.1"
    hosts = allowed_hosts_for(bind, allowed_hosts or settings.allowed_hosts)
    http: Any = "h11"
    if importlib.util.find_spec("httptools"):
        from stead.server.protocol import HeaderDeadlineProtocol, set_header_timeout

        http = HeaderDeadlineProtocol  # httptools, with a deadline on request headers
        set_header_timeout(request_timeout)
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
    if not auth and bind not in _LOOPBACK:
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
    if workers == 1:
        app = guard(create_app(settings, auth=auth, request_timeout=request_timeout), hosts)
        uvicorn.run(app if log_config is None else RequestLog(app), **common)
        return
    # Worker processes build their own app from the environment (settings + auth flag).
    os.environ["STEAD_STORE_URL"] = settings.resolved_store_url
    os.environ["STEAD_ARTIFACTS_URL"] = settings.resolved_artifacts_url
    os.environ["STEAD_HOME"] = str(settings.home)
    os.environ["STEAD_SERVER_AUTH"] = "1" if auth else "0"
    os.environ["STEAD_SERVER_REQUEST_TIMEOUT"] = str(request_timeout)
    os.environ["STEAD_ALLOWED_HOSTS"] = hosts
    factory = "stead.cli.server:worker_app" if log_config is None else "stead.cli.server:json_logged_app"
    uvicorn.run(factory, factory=True, workers=workers, **common)


def fast_serve(argv: Sequence[str]) -> int | None:
    """Run ``stead server <argv>`` without typer; None when typer must handle the line
    (``--help``, an unknown option, a value that is not a valid number: typer explains)."""
    parsed = parse_plain(argv, _VALUES, {"--auth": ("auth", True)})
    if parsed is None or parsed[0]:
        return None
    opts = parsed[1]
    serve(**opts)
    return 0


def _build() -> "typer.Typer":
    import typer

    command = typer.Typer(invoke_without_command=True, no_args_is_help=False)

    @command.callback()
    def server(
        host: str = typer.Option(None, "--host", help="Address to bind; 127.0.0.1 unless given."),
        port: int = typer.Option(5000, "--port", help="TCP port."),
        workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
        auth: bool = typer.Option(False, "--auth", help="Require users or tokens (create one: stead users create)."),
        store_url: str = typer.Option(None, "--store-url", help="Metadata store URL (default: from settings)."),
        artifacts_url: str = typer.Option(None, "--artifacts-url", help="Artifact root (default: from settings)."),
        log_format: str = typer.Option("text", "--log-format",
                                       help="text, or json: one JSON object a line on stderr, a line per request."),
        request_timeout: float = typer.Option(60.0, "--request-timeout", min=0.1,
                                              help="Seconds a request's headers or body may stop arriving (then 408)."),
        allowed_hosts: str = typer.Option(None, "--allowed-hosts",
                                          help="Comma-separated Host headers to answer (names, addresses, *.domain, *); "
                                               "others get 400. Default: localhost, 127.0.0.1, [::1] when bound to "
                                               "loopback, any host otherwise."),
    ) -> None:
        """Run the tracking server: MLflow REST API, artifact proxy, optional auth.

        Example: stead server --port 5000 --auth

        Example: stead server --host 0.0.0.0 --auth --log-format json

        Example: stead server --host 0.0.0.0 --auth --allowed-hosts mlflow.example.com
        """
        serve(host, port, workers, auth, store_url, artifacts_url, log_format, request_timeout, allowed_hosts)

    return command


__getattr__ = lazy_app(__name__, _build)  # the typer command, built on first use

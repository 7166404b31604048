"""``stead serve``: a model server (Open Inference Protocol, MLflow scoring, /metrics).

Start-up time is part of what a model server is judged on, so the plain command line is
read by ``fast_serve`` (called from ``stead.cli.fast``) without importing typer, click or
pydantic; ``--help``, an unknown option or a value out of range goes to the typer command
(built on first use), which explains. Both run ``serve_model``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

from stead.cli.fast import lazy_app, parse_plain
from stead.errors import InvalidParameter

if TYPE_CHECKING:
    import typer

    from stead.cli.fast import Values

__all__ = ["app", "fast_serve", "serve_model", "worker_app", "json_logged_app"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")

_VALUES: "Values" = {
    "--deployment": ("deployment", str, None, None), "--host": ("host", str, None, None),
    "--port": ("port", int, 0, 65535), "--workers": ("workers", int, 1, None),
    "--name": ("name", str, None, None), "--max-batch-size": ("max_batch_size", int, 1, None),
    "--max-latency-ms": ("max_latency_ms", float, 0.0, None), "--timeout": ("timeout", float, 0.001, None),
    "--max-body-bytes": ("max_body_bytes", int, 1, None), "--poll": ("poll", float, 0.0, None),
    "--log-sample": ("log_sample", float, 0.0, 1.0), "--log-flush": ("log_flush", float, 0.01, None),
    "--device": ("device", str, None, None), "--store-url": ("store_url", str, None, None),
    "--artifacts-url": ("artifacts_url", str, None, None), "--log-format": ("log_format", str, None, None),
    "--allowed-hosts": ("allowed_hosts", str, None, None),
}
_FLAGS = {"--native-sklearn": ("native_sklearn", True), "--import-sklearn": ("native_sklearn", False),
          "--trust-pickle": ("trust_pickle", True)}


def fast_serve(argv: Sequence[str]) -> int | None:
    """Run ``stead serve <argv>`` without typer; None when typer must handle the line."""
    parsed = parse_plain(argv, _VALUES, _FLAGS)
    if parsed is None or len(parsed[0]) > 1:
        return None
    args, opts = parsed
    serve_model(*args, **opts)
    return 0


def _build() -> "typer.Typer":
    import typer

    # Options may follow the model URI (`stead serve models:/churn@production --port 8080`).
    command = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                          context_settings={"allow_interspersed_args": True})

    @command.callback()
    def serve(
        model: str = typer.Argument(None, help="What to serve: models:/NAME@ALIAS, models:/NAME/VERSION, "
                                               "runs:/RUN/PATH or a model directory."),
        deployment: str = typer.Option(None, "--deployment", help="Serve a stored deployment (stead deploy create)."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
        port: int = typer.Option(8080, "--port", help="TCP port."),
        workers: int = typer.Option(1, "--workers", min=1, help="Worker processes (each loads the model)."),
        name: str = typer.Option(None, "--name", help="Model name in /v2 URLs (default: the registered name)."),
        max_batch_size: int = typer.Option(64, "--max-batch-size", min=1,
                                           help="Most requests run through the model at once (1 turns batching off)."),
        max_latency_ms: float = typer.Option(0.0, "--max-latency-ms", min=0.0,
                                             help="Hold a batch that is not full up to this long to gather more."),
        timeout: float = typer.Option(60.0, "--timeout", min=0.001, help="Seconds per request before a 504."),
        max_body_bytes: int = typer.Option(32 * 1024 * 1024, "--max-body-bytes", min=1,
                                           help="Largest request body; larger ones get 413."),
        poll: float = typer.Option(10.0, "--poll", min=0.0,
                                   help="Seconds between checks of the registry for moved aliases (0: never)."),
        log_sample: float = typer.Option(0.0, "--log-sample", min=0.0, max=1.0,
                                         help="Fraction of requests written to the prediction log."),
        log_flush: float = typer.Option(5.0, "--log-flush", min=0.01, help="Seconds between prediction log writes."),
        device: str = typer.Option(None, "--device", help="PyTorch models: cpu (default), cuda, cuda:N or auto "
                                                           "(the GPU when there is one)."),
        native_sklearn: bool = typer.Option(True, "--native-sklearn/--import-sklearn",
                                            help="Run scikit-learn linear models with NumPy alone (fast start, small "
                                                 "memory); --import-sklearn always loads them with scikit-learn."),
        trust_pickle: bool = typer.Option(False, "--trust-pickle",
                                          help="Load models whose files are pickles (scikit-learn pickles, PythonModels, "
                                               "PyTorch modules): loading one runs code from it. Default: the "
                                               "trust_pickle setting (STEAD_TRUST_PICKLE)."),
        store_url: str = typer.Option(None, "--store-url", help="Metadata store URL (default: from settings)."),
        artifacts_url: str = typer.Option(None, "--artifacts-url", help="Artifact root (default: from settings)."),
        allowed_hosts: str = typer.Option(None, "--allowed-hosts",
                                          help="Comma-separated Host headers to answer (names, addresses, *.domain, *); "
                                               "others get 400. Default: localhost, 127.0.0.1, [::1] when bound to "
                                               "loopback, any host otherwise."),
        log_format: str = typer.Option("text", "--log-format",
                                       help="text, or json: one JSON object a line on stderr, a line per request "
                                            "(request id, deployment, variant)."),
    ) -> None:
        """Serve a registered model or a deployment over HTTP (V2 /v2/..., MLflow /invocations, /metrics).

        Example: stead serve models:/churn@production --port 8080 --workers 2

        Example: stead serve models:/images@production --device cuda

        Example: stead serve models:/my-pipeline@production --trust-pickle

        Example: stead serve --deployment churn --log-format json
        """
        serve_model(model, deployment=deployment, host=host, port=port, workers=workers, name=name,
                    max_batch_size=max_batch_size, max_latency_ms=max_latency_ms, timeout=timeout,
                    max_body_bytes=max_body_bytes, poll=poll, log_sample=log_sample, log_flush=log_flush,
                    device=device, native_sklearn=native_sklearn, trust_pickle=trust_pickle, store_url=store_url,
                    artifacts_url=artifacts_url, log_format=log_format, allowed_hosts=allowed_hosts)

    return command


__getattr__ = lazy_app(__name__, _build)  # the typer command, built on first use


def serve_model(model: str | None = None, *, deployment: str | None = None, host: str = "127.0.0.1",
                port: int = 8080, workers: int = 1, name: str | None = None, max_batch_size: int = 64,
                max_latency_ms: float = 0.0, timeout: float = 60.0, max_body_bytes: int = 32 * 1024 * 1024,
                poll: float = 10.0, log_sample: float = 0.0, log_flush: float = 5.0, device: str | None = None,
                native_sklearn: bool = True, trust_pickle: bool = False, store_url: str | None = None,
                artifacts_url: str | None = None,
                log_format: str = "text", allowed_hosts: str | None = None) -> None:
    """Serve ``model`` (a URI or directory) or ``deployment`` until SIGTERM (see ``stead serve --help``)."""
    import uvicorn

    from stead.cli.common import settings as load
    from stead.logs import RequestLog, configure, say
    from stead.server.hosts import allowed_hosts_for
    from stead.serving.app import OPTIONS_ENV, ServeOptions, create_serving_app
    from stead.serving.guards import protect

    if (model is None) == (deployment is None):
        raise InvalidParameter("Name a model URI or --deployment NAME (one of the two)")
    log_config = configure(log_format, static={"deployment": deployment} if deployment else {"model": model})
    if device is not None:
        from stead.models.flavors.pytorch import check_device

        check_device(device)
    settings = load().with_overrides(store_url=store_url, artifacts_url=artifacts_url)
    hosts = allowed_hosts_for(host, allowed_hosts or settings.allowed_hosts)
    options = ServeOptions(model=model, deployment=deployment, name=name, max_batch_size=max_batch_size,
                           max_latency_ms=max_latency_ms, timeout_s=timeout, max_body_bytes=max_body_bytes,
                           poll_s=poll, log_sample=log_sample, log_flush_s=log_flush, device=device,
                           native_sklearn=native_sklearn, load_before_serving=workers > 1,
                           trust_pickle=trust_pickle or settings.trust_pickle)
    if deployment is not None:
        from stead.serving.deployments import Deployments
        from stead.store import open_store

        store = open_store(settings.resolved_store_url)
        Deployments(store).get(deployment)  # a typo fails here, in one line, not in a worker
        store.dispose()
    elif model is not None:
        from stead.serving.app import check_model

        check_model(settings, model)  # models:/nope@prod fails here, in one line, with a non-zero exit
    # httptools with one socket write per response (stead.serving.http), else uvicorn's pure-Python h11
    http = "stead.serving.http:OneWriteHttp" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    what = model or f"deployment {deployment}"
    say("stead.serving", f"stead serve {what} on http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''})")
    if host not in _LOOPBACK:
        say("stead.serving", f"warning: binding {host}: anyone who can reach it can call the model; put it behind a "
            "proxy with authentication.", warning=True)
    common = dict(host=host, port=port, http=http, loop=loop, log_level="warning", access_log=False,
                  proxy_headers=False, ws="none",
                  timeout_keep_alive=30, timeout_graceful_shutdown=max(timeout, 5.0), backlog=4096)
    if log_config is not None:
        common["log_config"] = log_config  # applied again in each worker process
    if workers == 1:
        # uvicorn drains on SIGTERM, then raises the signal again under the handler it found:
        # this one makes that (or a SIGTERM before uvicorn starts) end the process with status
        # 0, as the --workers N supervisor does, so a drained shutdown is not reported as a kill.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        served = protect(create_serving_app(settings, options), hosts)
        uvicorn.run(served if log_config is None else RequestLog(served), **common)  # type: ignore[arg-type]
        return
    os.environ[OPTIONS_ENV] = options.to_json()
    os.environ["STEAD_STORE_URL"] = settings.resolved_store_url
    os.environ["STEAD_ARTIFACTS_URL"] = settings.resolved_artifacts_url
    os.environ["STEAD_HOME"] = str(settings.home)
    os.environ["STEAD_ALLOWED_HOSTS"] = hosts
    factory = "stead.cli.serve:worker_app" if log_config is None else "stead.cli.serve:json_logged_app"
    uvicorn.run(factory, factory=True, workers=workers, **common)  # type: ignore[arg-type]


def json_logged_app() -> Any:
    """For ``uvicorn --factory`` workers of ``--log-format json``: the app, with request logs."""
    from stead.logs import RequestLog

    return RequestLog(worker_app())


def worker_app() -> Any:
    """For ``uvicorn --factory`` workers: the model server behind its guards (``stead.serving.guards``)."""
    from stead.config import load_settings
    from stead.serving.app import app_factory
    from stead.serving.guards import protect

    return protect(app_factory(), load_settings().allowed_hosts)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)

"""``stead serve``: a model server (Open Inference Protocol, MLflow scoring, /metrics).

Start-up time is part of what a model server is judged on, so the plain command line is
read by ``fast_serve`` (called from ``stead.cli.fast``) without importing typer, click or
pydantic; ``--help``, an unknown option or a value out of range goes to the typer command
(built on first use), which explains. Both run ``serve_model``.
"""

from __future__ import annotations

import importlib.util
import signal
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from stead.cli.plain import ALLOWED_HOSTS, ARTIFACTS_URL, STORE_URL, Arg, Line, Opt, lazy_app, parse_plain
from stead.errors import InvalidParameter

if TYPE_CHECKING:
    import typer

__all__ = ["app", "fast_serve", "serve_model", "LINE"]

# The command line of `stead serve`, read by fast_serve and by the typer command alike.
LINE = Line((
    Opt("deployment", ("--deployment",), str, None, "Serve a stored deployment (stead deploy create)."),
    Opt("host", ("--host",), str, "127.0.0.1", "Address to bind."),
    Opt("port", ("--port",), int, 8080, "TCP port.", low=0, high=65535),
    Opt("workers", ("--workers",), int, 1, "Worker processes (each loads the model).", low=1),
    Opt("name", ("--name",), str, None, "Model name in /v2 URLs (default: the registered name)."),
    Opt("max_batch_size", ("--max-batch-size",), int, 64,
        "Most requests run through the model at once (1 turns batching off).", low=1),
    Opt("max_latency_ms", ("--max-latency-ms",), float, 0.0,
        "Hold a batch that is not full up to this long to gather more.", low=0.0),
    Opt("timeout", ("--timeout",), float, 60.0, "Seconds per request before a 504.", low=0.001),
    Opt("max_body_bytes", ("--max-body-bytes",), int, 32 * 1024 * 1024, "Largest request body; larger ones get 413.",
        low=1),
    Opt("poll", ("--poll",), float, 10.0, "Seconds between checks of the registry for moved aliases (0: never).",
        low=0.0),
    Opt("log_sample", ("--log-sample",), float, 0.0, "Fraction of requests written to the prediction log.",
        low=0.0, high=1.0),
    Opt("log_flush", ("--log-flush",), float, 5.0, "Seconds between prediction log writes.", low=0.01),
    Opt("device", ("--device",), str, None, "PyTorch models: cpu (default), cuda, cuda:N or auto "
        "(the GPU when there is one)."),
    Opt("native_sklearn", ("--native-sklearn",), bool, True,
        "Run scikit-learn linear models with NumPy alone (fast start, small memory); --import-sklearn always "
        "loads them with scikit-learn.", off=("--import-sklearn",)),
    Opt("trust_pickle", ("--trust-pickle",), bool, False,
        "Load models whose files are pickles (scikit-learn pickles, PythonModels, PyTorch modules): loading one "
        "runs code from it. Default: the trust_pickle setting (STEAD_TRUST_PICKLE)."),
    STORE_URL,
    ARTIFACTS_URL,
    ALLOWED_HOSTS,
    Opt("log_format", ("--log-format",), str, "text",
        "text, or json: one JSON object a line on stderr, a line per request (request id, deployment, variant)."),
), Arg("model", "What to serve: models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN/PATH or a model directory."))
_DOC = """Serve a registered model or a deployment over HTTP (V2 /v2/..., MLflow /invocations, /metrics).

Example: stead serve models:/churn@production --port 8080 --workers 2

Example: stead serve models:/images@production --device cuda

Example: stead serve models:/my-pipeline@production --trust-pickle

Example: stead serve --deployment churn --log-format json
"""


def fast_serve(argv: Sequence[str]) -> int | None:
    """Run ``stead serve <argv>`` without typer; None when typer must handle the line."""
    parsed = parse_plain(argv, LINE)
    if parsed is None:
        return None
    serve_model(**parsed)
    return 0


def _build() -> "typer.Typer":
    import typer

    # Options may follow the model URI (`stead serve models:/churn@production --port 8080`).
    command = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                          context_settings={"allow_interspersed_args": True})
    command.callback()(LINE.typer(serve_model, doc=_DOC))
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
    from stead.cli.workers import run_app
    from stead.config import load_settings
    from stead.hosts import allowed_hosts_for, is_loopback
    from stead.logs import configure, say
    from stead.serving.app import AppFactory, ServeOptions

    if (model is None) == (deployment is None):
        raise InvalidParameter("Name a model URI or --deployment NAME (one of the two)")
    log_config = configure(log_format, static={"deployment": deployment} if deployment else {"model": model})
    if device is not None:
        from stead.models.flavors.pytorch import check_device

        check_device(device)
    settings = load_settings().with_overrides(store_url=store_url, artifacts_url=artifacts_url)
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
    if not is_loopback(host):
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
    factory = AppFactory(settings, options, allowed_hosts=hosts, request_log=log_config is not None)
    run_app(factory, workers, **common)  # --workers N: each worker builds its app from the factory


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)

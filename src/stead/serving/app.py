"""The composition root of the model server: ``create_serving_app(settings, options)``.

It builds the endpoint (variants, runtimes, batchers), the metrics registry, the prediction
log and the route table, and returns one ASGI app, ``ServingApp``. Models load in the
background after start: ``/v2/health/live`` answers at once, ``/v2/health/ready`` and
``/ping`` once a variant that gets traffic is loaded and warmed (``--workers N`` workers
load before they take connections instead: see ``ServeOptions.load_before_serving``); a
deployment's server reports its variants' states to the store (``stead.serving.health``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from stead.config import Settings
from stead.serving.handlers import Handlers
from stead.serving.metrics import ServingMetrics
from stead.serving.variants import one_line

__all__ = ["ServeOptions", "ServingApp", "create_serving_app", "AppFactory", "check_model"]

log = logging.getLogger("stead.serving")


@dataclass(frozen=True)
class ServeOptions:
    """What `stead serve` was asked to serve, and how."""

    model: str | None = None
    deployment: str | None = None
    name: str | None = None
    max_batch_size: int = 64
    max_latency_ms: float = 0.0
    timeout_s: float = 60.0
    max_body_bytes: int = 32 * 1024 * 1024
    poll_s: float = 10.0
    log_sample: float = 0.0
    log_flush_s: float = 5.0
    device: str | None = None  # PyTorch models: cpu, cuda, cuda:N or auto
    native_sklearn: bool = True  # run scikit-learn linear models with NumPy alone when possible
    trust_pickle: bool = False  # load models whose files are pickles (stead.models.trust)
    # Load the model before taking connections (for --workers N, whose workers share one
    # socket: a request then never lands on a worker that is still loading while another
    # could answer it). Otherwise the server answers /v2/health/live at once, ready later.
    load_before_serving: bool = False

    def model_config(self) -> dict[str, Any]:
        """What every variant's model is loaded with (see ``stead.load_model``)."""
        config: dict[str, Any] = {"stead.native_linear": self.native_sklearn, "stead.trust_pickle": self.trust_pickle}
        if self.device is not None:
            config["device"] = self.device
        return config


def _resolver(settings: Settings) -> Any:
    """``ref -> (uri, version)``: registry references are pinned to a version number."""
    cache: dict[str, Any] = {}

    def resolve(ref: str) -> tuple[str, str | None]:
        from stead.serving.deployments import parse_model_ref

        is_path = not ref.startswith("models:/") and (ref.startswith((".", "/", "~")) or os.path.isdir(ref) or
                                                       "@" not in ref and ref.count("/") != 1)
        if ref.startswith(("runs:/", "file://")) or is_path:
            return ref, None
        if "registry" not in cache:
            from stead.registry.client import RegistryClient

            cache["registry"] = RegistryClient(settings)
        parse_model_ref(ref)
        mv = cache["registry"].get_version(ref)
        return f"models:/{mv.name}/{mv.version}", str(mv.version)

    return resolve


def check_model(settings: Settings, ref: str) -> None:
    """Fail now, in one line, when ``ref`` names nothing: a registry reference that does not
    resolve or a model directory that does not exist (``runs:/`` URIs are checked on load)."""
    from stead.errors import NotFound, SteadError

    try:
        uri, version = _resolver(settings)(ref)
    except SteadError as exc:
        exc.message = f"Cannot serve {ref}: {exc.message}"
        exc.args = (exc.message,)
        raise exc from None
    if version is None and not uri.startswith(("runs:/", "models:/")):
        path = os.path.expanduser(uri.removeprefix("file://"))
        if not os.path.exists(path):
            raise NotFound(f"No model directory {path}; name a model directory, runs:/RUN/PATH or "
                           "models:/NAME@ALIAS")


def default_name(ref: str) -> str:
    from pathlib import Path

    if ref.startswith("models:/") or "@" in ref:
        return ref.removeprefix("models:/").split("@")[0].split("/")[0]
    return Path(ref.rstrip("/")).name or "model"


def create_serving_app(settings: Settings, options: ServeOptions) -> "ServingApp":
    """One model server: ``options.model`` (a URI) or ``options.deployment`` (a stored deployment)."""
    from stead.serving.deployments import Deployment, Deployments, Variant
    from stead.serving.swap import Endpoint

    if (options.model is None) == (options.deployment is None):
        raise ValueError("serve exactly one of a model URI or a deployment")
    resolve = _resolver(settings)
    load_deployment = None
    initial = None
    holder: dict[str, Any] = {}
    if options.deployment is not None:
        name = options.deployment

        def service() -> Deployments:
            if "svc" not in holder:
                from stead.store import open_store

                holder["svc"] = Deployments(open_store(settings.resolved_store_url))
            return holder["svc"]

        def load_deployment() -> Deployment:
            return service().get(name)
    else:
        assert options.model is not None
        name = options.name or default_name(options.model)
        initial = Deployment(name, (Variant("default", options.model, 100),))
    metrics = ServingMetrics(name)
    client = None
    model = options.model or ""
    if options.deployment is not None or model.startswith(("models:/", "runs:/")) or "@" in model:
        from stead.tracking.client import TrackingClient

        client = TrackingClient(settings)
    report: Callable[[list[Any]], None] | None = None
    withdraw: Callable[[], None] | None = None
    # A server reports what it serves on every poll; one that never polls still reports every 10 s.
    heartbeat_s = options.poll_s if options.poll_s > 0 else 10.0
    if options.deployment is not None:
        from stead.serving import health

        server = health.server_id()
        ttl = health.ttl_ms(heartbeat_s)

        def report_states(states: list[Any]) -> None:
            health.report(service().store, name, server, states, ttl)

        def withdraw_reports() -> None:
            health.withdraw(service().store, name, server)

        report, withdraw = report_states, withdraw_reports
    endpoint = Endpoint(name, resolve, metrics, client=client, load_deployment=load_deployment, initial=initial,
                        max_batch_size=options.max_batch_size, max_latency_ms=options.max_latency_ms,
                        model_config=options.model_config(), report=report)
    prediction_log = None
    if options.log_sample > 0:
        from stead.artifacts.factory import open_artifact_store
        from stead.serving.prediction_log import PredictionLog

        prediction_log = PredictionLog(open_artifact_store(settings.resolved_artifacts_url, settings.aws), name,
                                       sample=options.log_sample, flush_s=options.log_flush_s)
    handlers = Handlers(endpoint, metrics, prediction_log, timeout_s=options.timeout_s,
                        max_body_bytes=options.max_body_bytes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[Any]] = []

        async def start() -> None:
            try:
                await endpoint.refresh()
            except Exception as exc:  # noqa: BLE001 - stay live and not ready; the log says why
                log.debug("loading %s failed", name, exc_info=True)
                log.error("endpoint %s: cannot start: %s", name, one_line(exc))
            await endpoint.report()
            # What exists now (modules, the model) lives as long as the process: keep it out of
            # the cyclic garbage collector, whose full passes over it would stall requests for
            # tens of milliseconds now and then.
            gc.freeze()
            loop = asyncio.get_running_loop()
            if options.poll_s > 0 and (options.deployment is not None or client is not None):
                tasks.append(loop.create_task(endpoint.poll(options.poll_s)))
            elif report is not None:
                tasks.append(loop.create_task(endpoint.poll(heartbeat_s, refresh=False)))

        if options.load_before_serving:
            await start()  # this worker takes connections only once its model answers
        else:
            tasks.append(asyncio.get_running_loop().create_task(start()))
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            await handlers.drain_shadows()
            await endpoint.close()
            if withdraw is not None:
                with contextlib.suppress(Exception):  # its rows expire anyway
                    await asyncio.get_running_loop().run_in_executor(None, withdraw)
            if prediction_log is not None:
                await asyncio.get_running_loop().run_in_executor(None, prediction_log.close)

    return ServingApp(Starlette(routes=handlers.routes(), lifespan=lifespan), name, handlers)


class ServingApp:
    """The ASGI app uvicorn runs: the two inference routes without a version in the path go
    straight to their handlers (no routing table, no middleware wrapping every ``send``);
    every other request, and the lifespan, goes to the Starlette app."""

    __slots__ = ("app", "_direct", "_params")

    def __init__(self, app: Starlette, name: str, handlers: Handlers) -> None:
        self.app = app
        self._direct = {f"/v2/models/{name}/infer": handlers.v2_infer, "/invocations": handlers.invocations}
        self._params = {"name": name}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            handler = self._direct.get(scope["path"])
            if handler is not None:
                scope["path_params"] = self._params
                await handler(scope, receive, send)
                return
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class AppFactory:
    """The app of a ``stead serve`` process, built when called: the model server behind its
    guards (``stead.serving.guards``), with request logs for ``--log-format json``. uvicorn
    pickles it to each ``--workers N`` worker and calls it there (``factory=True``), so the
    settings and options travel with it rather than through the environment."""

    settings: Settings
    options: ServeOptions
    allowed_hosts: str | None = None  # None: any Host (stead.hosts.guard)
    request_log: bool = False

    def __call__(self) -> Any:
        from stead.config import adopt_settings
        from stead.serving.guards import protect

        adopt_settings(self.settings)  # what load_settings() returns in this process
        app = protect(create_serving_app(self.settings, self.options), self.allowed_hosts)
        if self.request_log:
            from stead.logs import RequestLog

            return RequestLog(app)
        return app

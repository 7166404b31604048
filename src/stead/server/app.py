"""The composition root: ``create_app(settings)`` builds the store, backend, artifact store,
user service and route tables, and returns one ASGI app (``stead.server.router.Router``).

Route tables are data. Each concept contributes a module with ``ENDPOINTS``; the MLflow API
tables are mounted under ``/api/2.0`` and ``/ajax-api/2.0`` (MLflow 3 ones under ``3.0``).
A new concept's routes are one more module name in ``API_V2_MODULES`` (or ``STEAD_MODULES``).
The web UI's pages (``stead.ui.routes``) are mounted beside them at ``/``; they are not part of
the OpenAPI document, which describes the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stead.artifacts.base import ArtifactStore

import importlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import msgspec

from stead.config import Settings
from stead.server.context import ARTIFACT_SCHEME_ROOT, ServerContext
from stead.server.dispatch import JsonEndpointApp, RawEndpointApp
from stead.server.endpoint import AUTHENTICATED, PUBLIC, ApiCall, Endpoint
from stead.server.openapi import openapi_document
from stead.server.router import MountedRoute, Router

__all__ = ["create_app", "route_tables", "AppFactory", "API_V2_MODULES", "API_V3_MODULES"]

log = logging.getLogger("stead.server")

API_V2_MODULES = (
    "stead.server.routes_experiments",
    "stead.server.routes_runs",
    "stead.server.routes_artifacts",
    "stead.server.logged_models",
    "stead.server.logged_models:RUN_ENDPOINTS",
    "stead.server.routes_registry",
)
API_V3_MODULES = ("stead.server.routes_meta",)
STEAD_MODULES = ("stead.server.routes_runs:STEAD_ENDPOINTS", "stead.server.routes_pipelines", "stead.server.routes_deployments",
                 "stead.server.routes_monitoring", "stead.server.routes_alerts", "stead.server.routes_rollouts")
_V2_PREFIXES = ("/api/2.0", "/ajax-api/2.0")
_HANDLER_THREADS = 40  # as many blocking calls at once as anyio's default thread limit
_TRANSFER_THREADS = 32  # artifact uploads (and, apart, downloads) being written or read at once
_V3_PREFIXES = ("/api/3.0", "/ajax-api/3.0")


def _load(modules: tuple[str, ...]) -> list[Endpoint]:
    """The endpoints of ``"module"`` (its ``ENDPOINTS``) or ``"module:ATTRIBUTE"`` entries."""
    out: list[Endpoint] = []
    for entry in modules:
        name, _, attr = entry.partition(":")
        attr = attr or "ENDPOINTS"
        out.extend(getattr(importlib.import_module(name), attr))
    return out


def _health(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    return {"status": "OK"}


def _version(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    from stead import __version__
    from stead.server.routes_meta import MLFLOW_COMPAT_VERSION

    return {"version": __version__, "mlflow_api": MLFLOW_COMPAT_VERSION}


async def _metrics(ctx: ServerContext, scope: dict[str, Any], receive: Any, send: Any, call: ApiCall) -> None:
    """The monitors' gauges (``stead.monitoring.gauges``), read from the store on each scrape."""
    from stead.monitoring.gauges import CONTENT_TYPE, render
    from stead.server.dispatch import in_thread

    body = await in_thread(ctx, render, ctx.store)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", CONTENT_TYPE.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


_OPENAPI: dict[str, Any] = {}


def _openapi(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    return _OPENAPI


def route_tables() -> list[tuple[str, list[Endpoint]]]:
    """Every mounted table as ``(prefix, endpoints)``; the OpenAPI document and the auth
    test walk this same list."""
    v2 = _load(API_V2_MODULES)
    v3 = _load(API_V3_MODULES)
    plain = [
        Endpoint("GET", "/health", _health, PUBLIC, "Liveness", response_fields=("status",)),
        Endpoint("GET", "/version", _version, PUBLIC, "stead version", response_fields=("version", "mlflow_api")),
        Endpoint("GET", "/openapi.json", _openapi, PUBLIC, "This OpenAPI document"),
        Endpoint("GET", "/metrics", _metrics, AUTHENTICATED,
                 "Prometheus gauges of the monitors' newest runs (drift, live performance)", raw=True),
    ]
    tables = [(p, v2) for p in _V2_PREFIXES] + [(p, v3) for p in _V3_PREFIXES]
    tables.append(("/api/stead/v1", _load(STEAD_MODULES)))
    return [*tables, ("", plain)]


def _routes(ctx: ServerContext, tables: list[tuple[str, list[Endpoint]]]) -> list[MountedRoute]:
    routes = []
    for prefix, endpoints in tables:
        for e in endpoints:
            app = RawEndpointApp(ctx, e) if e.raw else JsonEndpointApp(ctx, e)
            routes.append(MountedRoute(prefix + e.path, e.method, app))
    return routes


def _open_artifacts(settings: Settings) -> "ArtifactStore":
    from stead.artifacts import open_artifact_store

    return open_artifact_store(settings.resolved_artifacts_url, settings.aws)


def build_context(settings: Settings, *, auth: bool = False) -> ServerContext:
    from stead.store import open_store
    from stead.tracking.backend import EmbeddedBackend

    store = open_store(settings.resolved_store_url)
    users = None
    if auth:
        from stead.server.users import UserService

        users = UserService(store)
    return ServerContext(
        settings=settings,
        store=store,
        backend=EmbeddedBackend(store, ARTIFACT_SCHEME_ROOT),
        artifacts=_open_artifacts(settings),
        users=users,
    )


def create_app(settings: Settings, *, auth: bool = False, context: ServerContext | None = None,
               request_timeout: float | None = None, monitors: bool = False) -> Router:
    """The whole server as one ASGI app; ``request_timeout`` is how many seconds a request
    body may stop arriving before the server answers 408. With ``monitors`` the app runs the
    due monitors (``stead.monitoring.scheduler``) from its start to its shutdown."""
    from stead import __version__

    ctx = context or build_context(settings, auth=auth)
    if ctx.executor is None:
        # Handlers block on the store: they run on these threads, never on the event loop.
        ctx.executor = ThreadPoolExecutor(_HANDLER_THREADS, thread_name_prefix="stead-handler")
    # Artifact bytes get pools of their own: a burst of slow transfers never takes the
    # handlers' threads, and uploads never take the downloads' (nor the other way round).
    if ctx.uploads is None:
        ctx.uploads = ThreadPoolExecutor(_TRANSFER_THREADS, thread_name_prefix="stead-upload")
    if ctx.downloads is None:
        ctx.downloads = ThreadPoolExecutor(_TRANSFER_THREADS, thread_name_prefix="stead-download")
    if request_timeout is not None:
        ctx.request_timeout = request_timeout
    if ctx.deadlines is None:
        from stead.server.bodies import Deadlines

        ctx.deadlines = Deadlines(ctx.request_timeout)
    tables = route_tables()
    _OPENAPI.clear()
    _OPENAPI.update(msgspec.to_builtins(openapi_document(tables, __version__)))
    pools = (ctx.executor, ctx.uploads, ctx.downloads)
    scheduler = None
    if monitors:
        from stead.monitoring.scheduler import MonitorScheduler

        scheduler = MonitorScheduler(settings, ctx.store, ctx.artifacts)

    def startup() -> None:
        if scheduler is not None:
            scheduler.start()

    def shutdown() -> None:
        if scheduler is not None:
            scheduler.stop()
        for pool in pools:
            pool.shutdown(wait=False)
        ctx.store.dispose()

    from stead.ui.routes import ui_routes

    ui_table, ui_mounted = ui_routes(ctx)  # the web UI at / (stead.ui), after the API's paths
    app = Router([*_routes(ctx, tables), *ui_mounted], on_startup=startup, on_shutdown=shutdown)
    app.state.ctx = ctx
    app.state.api_tables = tables  # what the OpenAPI document describes
    app.state.route_tables = [*tables, ("", ui_table)]  # every mounted table: what the auth walk checks
    return app


@dataclass(frozen=True)
class AppFactory:
    """The app of a ``stead server`` process, built when called. uvicorn pickles it to each
    ``--workers N`` worker and calls it there (``factory=True``), so the settings, the auth
    flag, the timeouts and the Host allow-list travel with it rather than through the
    environment; the single-process server calls it too, so both build the same app."""

    settings: Settings
    auth: bool = False
    request_timeout: float | None = None
    header_deadline: bool = False  # connections use stead.server.protocol's deadline on headers
    allowed_hosts: str | None = None  # None: any Host (stead.hosts.guard)
    request_log: bool = False  # --log-format json: a line per request (stead.logs.RequestLog)
    monitors: bool = False  # run the due monitors in this process (stead server; --no-monitors: off)

    def __call__(self) -> Any:
        from stead.config import adopt_settings
        from stead.hosts import guard

        adopt_settings(self.settings)  # what load_settings() returns in this process
        if self.header_deadline and self.request_timeout is not None:
            from stead.server.protocol import set_header_timeout

            set_header_timeout(self.request_timeout)
        app = guard(create_app(self.settings, auth=self.auth, request_timeout=self.request_timeout,
                               monitors=self.monitors), self.allowed_hosts)
        if self.request_log:
            from stead.logs import RequestLog

            return RequestLog(app)
        return app


def main() -> None:
    """Print the OpenAPI document (``python -m stead.server.app > docs/openapi.json``)."""
    import json

    from stead import __version__

    print(json.dumps(openapi_document(route_tables(), __version__), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()

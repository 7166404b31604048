"""The server's ASGI router: one dictionary look-up per request.

Almost every MLflow path is fixed (``/api/2.0/mlflow/runs/log-batch``), so they are found by
a dictionary look-up on ``(path, method)``; the few with parameters (artifact paths, logged
model ids) are tried in order as compiled patterns, with Starlette's syntax: ``{name}`` is one
path segment, ``{name:path}`` the rest of the path. A general router that tries ~130 patterns
in turn cost more than the handler of a ``log-metric`` call.

Errors keep MLflow's JSON shape: an unknown path is ``ENDPOINT_NOT_FOUND`` (404), a known path
with another method 405, and anything that escapes an endpoint app before it answered is a
500 with one line for the client and the traceback in the log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from stead.server.errors import internal_error_parts
from stead.wire.errors import error_json

__all__ = ["Router", "MountedRoute"]

log = logging.getLogger("stead.server")
ASGIApp = Callable[..., Any]
_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::(path))?}")


@dataclass(frozen=True)
class MountedRoute:
    """One mounted (path, method) and the ASGI app that answers it."""

    path: str
    method: str
    app: ASGIApp


def _compile(path: str) -> re.Pattern[str]:
    out, pos = ["^"], 0
    for m in _PARAM.finditer(path):
        out.append(re.escape(path[pos:m.start()]))
        out.append(f"(?P<{m.group(1)}>{'.*' if m.group(2) else '[^/]+'})")
        pos = m.end()
    out.append(re.escape(path[pos:]) + "$")
    return re.compile("".join(out))


async def _send_json(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Router:
    """The ASGI app: routes ``http`` requests, runs ``on_startup`` and ``on_shutdown`` at the
    start and the end of the lifespan."""

    def __init__(self, routes: Iterable[MountedRoute], on_shutdown: Callable[[], None] | None = None,
                 on_startup: Callable[[], None] | None = None) -> None:
        self.routes = list(routes)
        self.state = SimpleNamespace()
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        self._exact: dict[str, dict[str, ASGIApp]] = {}
        patterns: dict[str, dict[str, ASGIApp]] = {}
        for route in self.routes:
            table = patterns if _PARAM.search(route.path) else self._exact
            methods = table.setdefault(route.path, {})
            methods[route.method] = route.app
            if route.method == "GET":
                methods.setdefault("HEAD", route.app)
        self._patterns = [(_compile(path), methods) for path, methods in patterns.items()]
        self._pattern_paths = list(patterns)  # the templates, in the same order

    def mounted(self) -> list[tuple[str, str, ASGIApp]]:
        """Every ``(path, method, app)`` this router dispatches to, read from the very look-up
        tables ``__call__`` uses (HEAD aliases included): what the deny-by-default test walks."""
        out = [(path, method, app) for path, methods in self._exact.items() for method, app in methods.items()]
        out += [(path, method, app) for path, (_, methods) in zip(self._pattern_paths, self._patterns)
                for method, app in methods.items()]
        return out

    def _find(self, path: str) -> tuple[dict[str, ASGIApp] | None, dict[str, str]]:
        methods = self._exact.get(path)
        if methods is not None:
            return methods, {}
        for pattern, methods in self._patterns:
            m = pattern.match(path)
            if m is not None:
                return methods, m.groupdict()
        return None, {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return  # no websockets
        path, method = scope["path"], scope["method"]
        methods, params = self._find(path)
        if methods is None:
            await _send_json(send, 404, error_json("ENDPOINT_NOT_FOUND", f"No endpoint {method} {path}"))
            return
        app = methods.get(method)
        if app is None:
            await _send_json(send, 405, error_json("BAD_REQUEST", f"Method {method} is not allowed on {path}"))
            return
        if params:
            scope["path_params"] = params
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise  # the response is under way: the server closes the connection
            status, body = internal_error_parts(exc, path)
            await _send_json(send, status, body)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self._on_startup is not None:
                    try:
                        self._on_startup()
                    except Exception as exc:
                        log.exception("starting the server")
                        await send({"type": "lifespan.startup.failed", "message": str(exc)})
                        return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._on_shutdown is not None:
                    try:
                        self._on_shutdown()
                    except Exception:
                        log.exception("shutting the server down")
                await send({"type": "lifespan.shutdown.complete"})
                return

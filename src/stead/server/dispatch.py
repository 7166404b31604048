"""The ASGI adapters between a route table entry and its handler.

A JSON endpoint: decode the query or the JSON body (with ``limits``), authenticate and
authorise (``auth``), run the synchronous handler on one of the context's handler threads
(one ``run_in_executor`` hop: anyio's ``to_thread`` costs a third more per call), encode the
dict with msgspec. Every failure becomes MLflow's JSON error; nothing else reaches the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from stead.errors import SteadError
from stead.server.auth import authorize, credentials_of
from stead.server.users import Credentials
from stead.server.context import ServerContext
from stead.server.endpoint import ApiCall, Endpoint
from stead.server.errors import error_parts, internal_error_parts
from stead.server.limits import check_json_content_type, parse_json_body, parse_query, read_body

__all__ = ["JsonEndpointApp", "RawEndpointApp", "send_json", "in_thread"]

T = TypeVar("T")

_encode = msgspec.json.Encoder().encode
_JSON_HEADERS = [(b"content-type", b"application/json")]
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TYPED_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def in_thread(ctx: ServerContext, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on one of the server's handler threads (the loop's default ones if the
    context has none)."""
    return await asyncio.get_running_loop().run_in_executor(ctx.executor, fn, *args)


async def send_json(send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class JsonEndpointApp:
    """ASGI app for one JSON endpoint."""

    def __init__(self, ctx: ServerContext, endpoint: Endpoint) -> None:
        self.ctx = ctx
        self.endpoint = endpoint

    def _run(self, call: ApiCall, creds: Credentials | None) -> bytes:
        ctx = self.ctx
        if ctx.users is not None and (creds is not None or self.endpoint.access.resource != "public"):
            call.user = ctx.users.authenticate(creds)
        authorize(ctx, self.endpoint.access, call)
        return _encode(self.endpoint.handler(ctx, call))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            method = scope["method"]
            if method in _BODY_METHODS:
                if method in _TYPED_METHODS:
                    check_json_content_type(scope)
                body = await read_body(scope, receive, deadlines=self.ctx.deadlines)
                params = parse_json_body(body)
                if scope.get("query_string"):
                    for key, value in parse_query(scope["query_string"]).items():
                        params.setdefault(key, value)
            else:
                params = parse_query(scope.get("query_string", b""))
            call = ApiCall(params, scope.get("path_params") or {})
            creds = credentials_of(scope) if self.ctx.users is not None else None
            out = await in_thread(self.ctx, self._run, call, creds)
            status = 200
        except SteadError as exc:
            status, out = error_parts(exc)
        except Exception as exc:
            status, out = internal_error_parts(exc, self.endpoint.path)
        await send_json(send, status, out)


class RawEndpointApp:
    """ASGI app for a streaming endpoint; the handler writes the response itself."""

    def __init__(self, ctx: ServerContext, endpoint: Endpoint) -> None:
        self.ctx = ctx
        self.endpoint = endpoint

    def _check(self, call: ApiCall, creds: Credentials | None) -> None:
        if self.ctx.users is not None and (creds is not None or self.endpoint.access.resource != "public"):
            call.user = self.ctx.users.authenticate(creds)
        authorize(self.ctx, self.endpoint.access, call)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            call = ApiCall(parse_query(scope.get("query_string", b"")), scope.get("path_params") or {})
            creds = credentials_of(scope) if self.ctx.users is not None else None
            await in_thread(self.ctx, self._check, call, creds)
            await self.endpoint.handler(self.ctx, scope, receive, tracking_send, call)
            return
        except SteadError as exc:
            status, out = error_parts(exc)
        except Exception as exc:
            status, out = internal_error_parts(exc, self.endpoint.path)
            if started:
                raise
        if not started:
            await send_json(send, status, out)

"""What stands in front of the model server: the Host allow-list (``stead.hosts``) and
a refusal of the bodies a cross-site form can send to the inference routes.

A page on any site can make the browser POST ``text/plain``, ``application/x-www-form-urlencoded``
or ``multipart/form-data`` to ``http://127.0.0.1:8080/invocations`` without asking the server
first (no CORS preflight), and a JSON document fits in such a body. The inference routes
(``/invocations``, ``/v2/models/.../infer``) never read those types, so they are refused with
415 ``UNSUPPORTED_MEDIA_TYPE`` before the body is read, in the error shape of the route's
protocol. Every other type goes on to the route (which reads JSON, and CSV on /invocations).
"""

from __future__ import annotations

import json
from typing import Any

from stead.hosts import HostGuard

__all__ = ["FORM_TYPES", "InferenceContentGuard", "protect"]

FORM_TYPES = frozenset({b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"})


class InferenceContentGuard:
    """ASGI wrapper: a form or plain-text POST to an inference route gets 415; with
    ``allowed`` (an allow-list, see ``stead.hosts``) a Host not on it gets 400. Both
    checks read the headers once, in one wrapper: this sits on every inference request."""

    __slots__ = ("app", "_hosts")

    def __init__(self, app: Any, allowed: str | None = None) -> None:
        self.app = app
        self._hosts = HostGuard(app, allowed) if allowed is not None and allowed != "*" else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = kind = b""
            for key, value in scope["headers"]:
                if key == b"host":
                    host = value
                elif key == b"content-type":
                    kind = value
            hosts = self._hosts
            if hosts is not None and not hosts.allows(host):
                await hosts.refuse(host, scope, send)
                return
            if kind and scope["method"] == "POST":
                path = scope["path"]
                v2 = path.endswith("/infer") and path.startswith("/v2/models/")
                if v2 or path == "/invocations":
                    media = kind.split(b";", 1)[0].strip().lower()
                    if media in FORM_TYPES:
                        await _refuse(send, media.decode("latin-1"), v2)
                        return
        elif scope["type"] == "websocket" and self._hosts is not None:
            await self._hosts(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _refuse(send: Any, kind: str, v2: bool) -> None:
    message = (f"Content-Type {kind} is not read by the inference routes (a browser form could send it from "
               "any web page); send application/json (or text/csv to /invocations)")
    doc = {"error": message} if v2 else {"error_code": "UNSUPPORTED_MEDIA_TYPE", "message": message}
    body = json.dumps(doc).encode()
    await send({"type": "http.response.start", "status": 415,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def protect(app: Any, allowed_hosts: str | None) -> Any:
    """``app`` behind the Host allow-list and the form refusal."""
    return InferenceContentGuard(app, allowed_hosts)

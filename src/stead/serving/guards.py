"""What stands in front of the model server: the Host allow-list (``stead.server.hosts``) and
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

from stead.server.hosts import guard

__all__ = ["FORM_TYPES", "InferenceContentGuard", "protect"]

FORM_TYPES = frozenset({b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"})


def _media_type(scope: dict[str, Any]) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key == b"content-type":
            return value.split(b";", 1)[0].strip().lower()
    return None


class InferenceContentGuard:
    """ASGI wrapper: a form or plain-text POST to an inference route gets 415."""

    __slots__ = ("app",)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            v2 = path.startswith("/v2/models/") and path.endswith("/infer")
            if v2 or path == "/invocations":
                kind = _media_type(scope)
                if kind in FORM_TYPES:
                    await _refuse(send, kind.decode("latin-1"), v2)
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
    """``app`` behind both guards: the Host allow-list outside, the form refusal inside."""
    return guard(InferenceContentGuard(app), allowed_hosts)

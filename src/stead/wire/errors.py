"""MLflow's error body, ``{"error_code": ..., "message": ...}``, written and read in one place.

The server writes it for every error (``error_json``); stead's remote clients turn it back
into the ``SteadError`` subclass with the same ``code`` (``error_from_json``), so code written
against the embedded store behaves the same against a server. A body without a code (a
proxy's error page, an endpoint a server lacks) is named by its HTTP status.
"""

from __future__ import annotations

from typing import Any

import msgspec

from stead import errors as E

__all__ = ["error_json", "error_from_json"]

_encode = msgspec.json.Encoder().encode
_CLASSES: dict[str, type[E.SteadError]] = {}
for _name in E.__all__:
    _cls = getattr(E, _name)
    if isinstance(_cls, type) and issubclass(_cls, E.SteadError) and _cls is not E.MissingExtra:
        _CLASSES.setdefault(_cls.code, _cls)
_CLASSES.update({"NOT_FOUND": E.NotFound, "ENDPOINT_NOT_FOUND": E.NotFound, "ALREADY_EXISTS": E.AlreadyExists})
_STATUS_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "ENDPOINT_NOT_FOUND",
                 413: "REQUEST_TOO_LARGE", 503: "TEMPORARILY_UNAVAILABLE"}


def error_json(code: str, message: str) -> bytes:
    """The encoded error body."""
    return _encode({"error_code": code, "message": message})


def error_from_json(status: int, body: Any, request: str = "") -> E.SteadError:
    """The ``SteadError`` an error response stands for: same code (one this stead does not
    know is kept on a plain ``SteadError``), same message. ``request`` (``"GET /path"``)
    names the call when the body has no code."""
    code, message = "", ""
    if isinstance(body, dict):
        code, message = str(body.get("error_code") or ""), str(body.get("message") or "")
    if not code:
        code = _STATUS_CODES.get(status, "INTERNAL_ERROR")
        message = f"{request} answered HTTP {status}" if request else f"HTTP {status}"
    exc = _CLASSES.get(code, E.SteadError)(message or code)
    if exc.code != code:
        exc.code = code
    return exc

"""The UI's HTTP pieces at the ASGI level: a request read once, responses with the security
headers every UI answer carries.

Every UI response sends a Content-Security-Policy without inline script or style
(``script-src 'self'``), ``nosniff``, no framing and a same-origin referrer, so that a value a
user logged, even one that got past escaping, cannot run script in the UI's origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from stead.errors import BadRequest
from stead.server.limits import header, parse_query, read_body

__all__ = ["UiRequest", "Response", "CSP", "CHART_CSP", "read_request", "redirect", "cookie_header", "url_with"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# Pages drawing Plotly charts: Plotly.js writes <style> elements of its own, so those pages allow
# inline styles; scripts stay 'self' only.
CHART_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"vary", b"accept, cookie"),  # one URL answers HTML or JSON, per user
]
_MAX_FORM = 64 * 1024


@dataclass
class UiRequest:
    """One UI request: method, path, query (repeated keys become lists), cookies, the form of
    a POST, and whether the client asked for JSON."""

    method: str
    path: str
    query: dict[str, Any]
    cookies: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    client: str | None = None
    secure: bool = False
    set_cookies: list[str] = field(default_factory=list)  # what the response will set

    @property
    def wants_json(self) -> bool:
        if self.query.get("format") == "json":
            return True
        accept = self.headers.get(b"accept", b"").decode("latin-1")
        return "text/html" not in accept

    def values(self, name: str) -> list[str]:
        """Every value of a repeated query parameter."""
        value = self.query.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    def first(self, name: str, default: str = "") -> str:
        values = self.values(name)
        return values[-1] if values else default

    @property
    def full_path(self) -> str:
        query = urlencode([(k, v) for k in self.query for v in self.values(k)])
        return self.path + (f"?{query}" if query else "")


async def read_request(scope: dict[str, Any], receive: Any, deadlines: Any = None) -> UiRequest:
    headers = {k.lower(): v for k, v in scope.get("headers", [])}
    cookies: dict[str, str] = {}
    raw = header(scope, b"cookie")
    if raw:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw.decode("latin-1"))
        except CookieError:
            pass  # a malformed cookie header is no cookies at all
        cookies = {k: m.value for k, m in jar.items()}
    form: dict[str, str] = {}
    if scope["method"] == "POST":
        body = await read_body(scope, receive, limit=_MAX_FORM, deadlines=deadlines)
        kind = headers.get(b"content-type", b"").split(b";")[0].strip()
        if body and kind == b"application/x-www-form-urlencoded":
            try:
                form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise BadRequest("The form is not UTF-8") from None
    client = scope.get("client")
    return UiRequest(scope["method"], scope["path"], parse_query(scope.get("query_string", b"")), cookies,
                     form, headers, str(client[0]) if client else None, scope.get("scheme") == "https")


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def send(self, send: Any, cookies: Sequence[str] = ()) -> None:
        headers = [(b"content-type", self.content_type.encode()), (b"content-length", str(len(self.body)).encode()),
                   *_SECURITY_HEADERS, *self.headers]
        if not any(k == b"content-security-policy" for k, _ in self.headers):
            headers.append((b"content-security-policy", CSP.encode()))
        headers += [(b"set-cookie", c.encode("latin-1")) for c in cookies]
        if not any(k == b"cache-control" for k, _ in self.headers):
            headers.append((b"cache-control", b"no-store"))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def redirect(location: str, status: int = 303) -> Response:
    return Response(status, b"", "text/plain; charset=utf-8", [(b"location", location.encode("latin-1"))])


def cookie_header(name: str, value: str, *, secure: bool, http_only: bool = True, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value: path ``/``, ``SameSite=Strict``, ``HttpOnly`` unless told
    otherwise, ``Secure`` when the request came over HTTPS."""
    parts = [f"{name}={value}", "Path=/", "SameSite=Strict"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def url_with(path: str, pairs: list[tuple[str, str]]) -> str:
    """``path`` with the query ``pairs`` (empty values left out)."""
    query = urlencode([(k, v) for k, v in pairs if v != ""])
    return path + (f"?{query}" if query else "")

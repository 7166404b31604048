"""The ASGI adapter between a UI route and its handler, the UI's one gate.

Each request: read it, find the user (``session.request_user``), apply the route's
``Access`` with the API's own check (``stead.server.auth.authorize``: a user without READ
gets the answer for a missing experiment), refuse a POST without the CSRF token, run the
handler on a handler thread, then answer HTML (a Jinja2 template, autoescaped) or, for
``?format=json`` and clients that do not ask for HTML, the very data the template got.
An anonymous browser is sent to the login page; an anonymous script gets a 401.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msgspec

from stead.errors import SteadError, Unauthenticated
from stead.server.auth import authorize
from stead.server.dispatch import in_thread
from stead.server.endpoint import ApiCall, Endpoint
from stead.server.errors import error_parts, internal_error_parts, public_message
from stead.ui.session import check_csrf, csrf_token, request_user
from stead.ui.web import CHART_CSP, Response, UiRequest, read_request, redirect

if TYPE_CHECKING:
    from jinja2 import Environment

    from stead.server.context import ServerContext
    from stead.ui.assets import Assets

__all__ = ["View", "PageApp", "Handler"]

_encode = msgspec.json.Encoder().encode


@dataclass
class View:
    """What a page handler returns: its template and the data it shows (also its JSON)."""

    template: str
    data: dict[str, Any]
    status: int = 200
    extra: dict[str, Any] = field(default_factory=dict)  # template-only values, not in the JSON
    charts: bool = False  # the page draws Plotly charts (web.CHART_CSP)


Handler = Callable[["ServerContext", ApiCall, UiRequest], "View | Response"]


class PageApp:
    """ASGI app of one UI route; ``endpoint`` carries its access rule (the route walk reads it)."""

    def __init__(self, ctx: "ServerContext", endpoint: Endpoint, templates: "Environment", assets: "Assets") -> None:
        self.ctx = ctx
        self.endpoint = endpoint
        self.templates = templates
        self.assets = assets

    def _render(self, req: UiRequest, call: ApiCall, view: View) -> Response:
        if req.wants_json:
            return Response(view.status, _encode(view.data), "application/json")
        template = self.templates.get_template(view.template)
        html = template.render(**view.data, **view.extra, user=call.user, auth=self.ctx.auth,
                               csrf=csrf_token(req), asset=self.assets.url, request=req)
        headers = [(b"content-security-policy", CHART_CSP.encode())] if view.charts else []
        return Response(view.status, html.encode(), "text/html; charset=utf-8", headers)

    def _run(self, req: UiRequest, scope: dict[str, Any]) -> Response:
        call = ApiCall(dict(req.query), dict(scope.get("path_params") or {}))
        public = self.endpoint.access.resource == "public"
        try:
            try:
                call.user = request_user(self.ctx, req, scope)
            except Unauthenticated:
                if not public:
                    raise
                # bad Basic/Bearer credentials on a public page (the login form): anonymous, never a loop
            if self.ctx.auth and call.user is None and not public:
                raise Unauthenticated("Log in to see this page")
            authorize(self.ctx, self.endpoint.access, call)
            if req.method == "POST":
                check_csrf(req)
            out = self.endpoint.handler(self.ctx, call, req)
            return out if isinstance(out, Response) else self._render(req, call, out)
        except SteadError as exc:
            return self._error(req, call, exc)

    def _error(self, req: UiRequest, call: ApiCall, exc: SteadError) -> Response:
        status, body = error_parts(exc)
        if req.wants_json:
            return Response(status, body, "application/json")
        if isinstance(exc, Unauthenticated) and req.method in ("GET", "HEAD"):
            return redirect("/login?next=" + quote(req.full_path, safe="/"))
        view = View("error.html", {"error_code": exc.code, "message": public_message(exc.message)}, status)
        return self._render(req, call, view)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        req: UiRequest | None = None
        try:
            req = await read_request(scope, receive, self.ctx.deadlines)
            response = await in_thread(self.ctx, self._run, req, scope)
        except SteadError as exc:
            status, body = error_parts(exc)
            response = Response(status, body, "application/json")
        except Exception as exc:
            status, body = internal_error_parts(exc, scope.get("path", "the UI"))
            response = Response(status, body, "application/json")
        await response.send(send, req.set_cookies if req is not None else [])

"""Pages: the login form and logging out (``stead.ui.session`` holds the mechanics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead.ui.page import View
from stead.ui.session import log_in, log_out, safe_next
from stead.ui.web import Response, UiRequest, redirect

if TYPE_CHECKING:
    from stead.server.context import ServerContext
    from stead.server.endpoint import ApiCall

__all__ = ["login_form", "login", "logout"]


def login_form(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> View | Response:
    target = safe_next(req.first("next", "/experiments"))
    if not ctx.auth or call.user is not None:
        return redirect(target)
    return View("login.html", {"next": target, "message": "", "username": ""})


def login(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> View | Response:
    target = safe_next(req.form.get("next", "/experiments"))
    if not ctx.auth:
        return redirect(target)
    user, message, status = log_in(ctx, req)
    if user is None:
        return View("login.html", {"next": target, "message": message, "username": req.form.get("username", "")},
                    status)
    return redirect(target)


def logout(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> Response:
    log_out(ctx, req)
    return redirect("/login" if ctx.auth else "/experiments")

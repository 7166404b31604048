"""Who is behind a UI request, and the CSRF check of every UI POST.

With ``--auth`` a browser logs in once through the login form; the server's own credential
check (``UserService.authenticate``, throttled by ``LoginThrottle``) verifies the password
and a session secret goes into an ``HttpOnly``, ``SameSite=Strict`` cookie. The secret is an
API token named ``ui session`` (stored as a SHA-256 digest; ``stead tokens revoke`` ends it),
refused after ``SESSION_MAX_AGE_S`` and revoked on logout. Scripts may send the API's Basic
or Bearer credentials instead.

CSRF: a random token in a ``SameSite=Strict`` cookie, repeated in every form (``csrf_token``)
and in the ``x-csrf-token`` header of the pages' own fetches; a POST whose two copies are
missing or differ is refused before its handler runs (double submit), as is one whose
``Origin`` is another site.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING

from stead.errors import PermissionDenied, TooManyRequests, Unauthenticated
from stead.server.auth import credentials_of
from stead.server.users import Credentials
from stead.ui.web import UiRequest, cookie_header

if TYPE_CHECKING:
    from stead.server.context import ServerContext
    from stead.server.users import User

__all__ = ["SESSION_COOKIE", "CSRF_COOKIE", "SESSION_MAX_AGE_S", "request_user", "csrf_token", "check_csrf",
           "log_in", "log_out", "safe_next"]

SESSION_COOKIE = "stead_session"
CSRF_COOKIE = "stead_csrf"
SESSION_MAX_AGE_S = 12 * 3600


def request_user(ctx: "ServerContext", req: UiRequest, scope: dict) -> "User | None":  # type: ignore[type-arg]
    """The session's user, else the one of the request's Authorization header; None when auth
    is off, or nobody logged in (a stale session cookie is cleared)."""
    if ctx.users is None:
        return None
    token = req.cookies.get(SESSION_COOKIE)
    if token:
        user = ctx.users.session_user(token, SESSION_MAX_AGE_S)
        if user is not None:
            return user
        req.set_cookies.append(cookie_header(SESSION_COOKIE, "", secure=req.secure, max_age=0))
    creds = credentials_of(scope)
    return ctx.users.authenticate(creds) if creds is not None else None


def csrf_token(req: UiRequest) -> str:
    """The request's CSRF token; a new one (set as a cookie by the response) if it has none."""
    token = req.cookies.get(CSRF_COOKIE, "")
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
        req.cookies[CSRF_COOKIE] = token
        req.set_cookies.append(cookie_header(CSRF_COOKIE, token, secure=req.secure))
    return token


def check_csrf(req: UiRequest) -> None:
    """Refuse a state-changing request whose CSRF token is missing or not the cookie's."""
    origin = req.headers.get(b"origin")
    host = req.headers.get(b"host")
    if origin and host and origin.split(b"://", 1)[-1] != host:
        raise PermissionDenied("Cross-site request refused: this form belongs to another site")
    cookie = req.cookies.get(CSRF_COOKIE, "")
    sent = req.form.get("csrf_token") or req.headers.get(b"x-csrf-token", b"").decode("latin-1")
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise PermissionDenied("Missing or stale CSRF token: reload the page and submit the form again")


def safe_next(target: str) -> str:
    """Where to go after logging in: a path of this server only (no open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or "\r" in target or "\n" in target:
        return "/experiments"
    return target


def log_in(ctx: "ServerContext", req: UiRequest) -> tuple["User | None", str, int]:
    """Check the form's user name and password; on success start a session (its cookie is
    set on the response). Returns the user, or None with the message and status to show."""
    assert ctx.users is not None
    username = req.form.get("username", "").strip()
    password = req.form.get("password", "")
    try:
        user = ctx.users.authenticate(Credentials("basic", f"{username}:{password}", req.client))
    except TooManyRequests as exc:
        return None, exc.message, 429
    except Unauthenticated:
        return None, "Unknown user name or wrong password.", 401
    token = ctx.users.start_session(user)
    req.set_cookies.append(cookie_header(SESSION_COOKIE, token, secure=req.secure, max_age=SESSION_MAX_AGE_S))
    return user, "", 200


def log_out(ctx: "ServerContext", req: UiRequest) -> None:
    token = req.cookies.get(SESSION_COOKIE)
    if token and ctx.users is not None:
        ctx.users.end_session(token)
    req.set_cookies.append(cookie_header(SESSION_COOKIE, "", secure=req.secure, max_age=0))

"""The Host-header allow-list of ``stead server`` and ``stead serve`` (``--allowed-hosts``).

DNS rebinding: a web page on ``evil.example`` re-points its own name at 127.0.0.1, and the
victim's browser then sends the page's requests to a server on the victim's loopback, as
same-origin requests, with ``Host: evil.example``. Refusing a Host header the server does
not answer to closes that. The default, for a server bound to a loopback address, is the
loopback names (``localhost``, ``127.0.0.1``, ``[::1]``, any port); a server bound to any
other address accepts every Host unless ``--allowed-hosts`` names them. A refused request
gets 400 with a JSON body that says which host and how to allow it.

Entries are host names or addresses (the port is ignored), ``*.example.com`` for any
subdomain of ``example.com``, or ``*`` for any host.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["LOOPBACK_NAMES", "HostGuard", "allowed_hosts_for", "guard", "is_loopback"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_LOOPBACK_BINDS = ("127.0.0.1", "localhost", "::1", "[::1]")
_MAX_MEMO = 1024


def is_loopback(bind: str) -> bool:
    """Whether a server bound to ``bind`` is reachable from this machine only."""
    return bind in _LOOPBACK_BINDS


def allowed_hosts_for(bind: str, given: str | None) -> str:
    """The allow-list a server bound to ``bind`` uses: ``given`` (comma-separated) when set,
    else the loopback names for a loopback bind and ``*`` for any other."""
    if given is not None and given.strip():
        return ",".join(p.strip().lower() for p in given.split(",") if p.strip())
    return ",".join(LOOPBACK_NAMES) if is_loopback(bind) else "*"


def _hostname(value: str) -> str:
    """``Host`` without its port: ``localhost:5000`` -> ``localhost``, ``[::1]:80`` -> ``[::1]``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostGuard:
    """ASGI wrapper: requests whose Host is not on the list get 400 before reaching ``app``."""

    __slots__ = ("app", "_exact", "_suffixes", "_listed", "_memo")

    def __init__(self, app: Any, allowed: str) -> None:
        self.app = app
        entries = [e.strip().lower() for e in allowed.split(",") if e.strip()]
        self._exact = frozenset(e for e in entries if not e.startswith("*."))
        self._suffixes = tuple(e[1:] for e in entries if e.startswith("*."))
        self._listed = ", ".join(entries)
        self._memo: dict[bytes, bool] = {}

    def allows(self, raw: bytes) -> bool:
        """Whether a request with this Host header value is answered."""
        known = self._memo.get(raw)
        if known is not None:
            return known
        name = _hostname(raw.decode("latin-1"))
        ok = bool(name) and (name in self._exact or name.endswith(self._suffixes))
        if len(self._memo) < _MAX_MEMO:
            self._memo[raw] = ok
        return ok

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            host = b""
            for key, value in scope.get("headers") or ():
                if key == b"host":
                    host = value
                    break
            if not self.allows(host):
                await self.refuse(host, scope, send)
                return
        await self.app(scope, receive, send)

    async def refuse(self, host: bytes, scope: dict[str, Any], send: Any) -> None:
        """Answer 400 (or close a websocket) naming the host and the option."""
        shown = host.decode("latin-1")[:200] or "(none)"
        message = (f"Host {shown!r} is not one this server answers to (allowed: {self._listed}). "
                   "If you reach it by that name, restart it with --allowed-hosts naming it "
                   "(a protection against DNS rebinding: docs/server.md)")
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"error_code": "BAD_REQUEST", "message": message}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def guard(app: Any, allowed: str | None) -> Any:
    """``app`` behind the allow-list ``allowed``; ``app`` itself for ``*`` or None."""
    if allowed is None or "*" in [e.strip() for e in allowed.split(",")]:
        return app
    return HostGuard(app, allowed)

"""uvicorn's HTTP protocol with a deadline on request headers (``stead server --request-timeout``).

uvicorn waits for headers without a limit: a client that connects and sends nothing, or
sends one header byte a minute, keeps its connection (and a slot under any connection limit)
for ever. Here a timer starts when a connection opens and when a read ends inside a request's
headers, and stops once the headers are complete; if it fires first the client gets a 408 in
MLflow's JSON error shape and the connection is closed. Imported by the CLI only (it imports uvicorn).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from stead.wire.errors import error_json

__all__ = ["HeaderDeadlineProtocol", "set_header_timeout"]

_TIMEOUT = [60.0]  # set once per process, before the server accepts connections


def set_header_timeout(seconds: float) -> None:
    """How long a request's headers may take to arrive, for every connection of this process."""
    _TIMEOUT[0] = float(seconds)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that answers 408 and closes when headers stop arriving.

    A request whose headers come in one read (nearly all) never arms a timer: the timer is
    set when a connection opens, and when a read ends in the middle of a request's headers.
    """

    _header_timer: asyncio.TimerHandle | None = None
    _in_headers = False

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_headers and self._header_timer is None:
            self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(_TIMEOUT[0], self._headers_timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a response is still being written; its own request had complete headers
        body = error_json("REQUEST_TIMEOUT", f"The request headers did not arrive within {_TIMEOUT[0]:g} s")
        self.transport.write(
            b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
            + b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        self.transport.close()

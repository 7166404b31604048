"""The model server's HTTP/1.1 connections: uvicorn's httptools protocol, one write per response.

uvicorn writes a response's status line and headers, then its body, as two socket writes
(two system calls, two TCP segments, two reads for the client). For the small JSON answers
of a model server those writes are a large share of the cost of a request. ``OneWriteHttp``
gives uvicorn a transport that gathers the writes made during one turn of the event loop
and sends them together right after it, so a response leaves as one segment. Nothing else
about HTTP changes: parsing, keep-alive, flow control and shutdown are uvicorn's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["OneWriteHttp"]


class _GatheringTransport:
    """A transport whose writes in one loop turn go out as one write at the end of it."""

    __slots__ = ("_transport", "_loop", "_pending")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self._pending is None:
            self._pending = [data]
            self._loop.call_soon(self._flush)
        else:
            self._pending.append(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()  # what was written before close still goes out, as with any transport
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading, ...
        return getattr(self._transport, name)


class OneWriteHttp(HttpToolsProtocol):
    """uvicorn's ``httptools`` protocol over a ``_GatheringTransport`` (pass as ``http=``)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        gathering = _GatheringTransport(transport, self.loop)
        super().connection_made(gathering)  # type: ignore[arg-type]

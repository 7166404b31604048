"""Request bodies received on the event loop, so that a slow client never holds a thread.

Every byte of a body is received on the event loop, under a deadline that restarts with each
piece: a body that stops arriving for ``timeout`` seconds is a ``RequestTimeout`` (408). A
worker thread is handed only bytes that are already here: an upload that fits ``window`` is
written by one call once it is complete; a bigger one is written while it streams in, through
a ``BodyPipe`` whose ``read(n)`` waits for ``n`` bytes at most ``timeout`` seconds, and whose
read-ahead is bounded so that memory stays at a few MiB per upload.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any

from stead.errors import InvalidParameter, RequestTimeout

__all__ = ["receive_message", "read_window", "BodyPipe", "pump"]


async def receive_message(receive: Any, timeout: float) -> dict[str, Any]:
    """The next ASGI message, or ``RequestTimeout`` when none comes within ``timeout`` s."""
    try:
        async with asyncio.timeout(timeout):
            message: dict[str, Any] = await receive()
    except TimeoutError:
        raise RequestTimeout(
            f"The request body stopped arriving: nothing came for {timeout:g} s; send it again"
        ) from None
    if message["type"] == "http.disconnect":
        raise InvalidParameter("The client disconnected before the request body was complete")
    return message


async def read_window(receive: Any, window: int, timeout: float) -> tuple[list[bytes], int, bool]:
    """Receive until ``window`` bytes or the end: ``(chunks, size, complete)``."""
    chunks: list[bytes] = []
    size = 0
    while size < window:
        message = await receive_message(receive, timeout)
        body = message.get("body", b"")
        if body:
            chunks.append(body)
            size += len(body)
        if not message.get("more_body", False):
            return chunks, size, True
    return chunks, size, False


class BodyPipe:
    """A blocking ``read(n)`` for the writer thread, fed by the event loop (``feed``/``finish``).

    The loop waits in ``feed`` while ``high_water`` bytes are buffered; the thread wakes only
    when what it asked for is here (or the end, or a failure), not for every 64 KiB piece.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, high_water: int, timeout: float) -> None:
        self._loop = loop
        self._high_water = high_water
        self._timeout = timeout
        self._cond = threading.Condition()
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._wanted = 0
        self._done = False
        self._error: BaseException | None = None
        self._space = asyncio.Event()
        self._space.set()

    # -- the event loop's side ----------------------------------------------------------

    async def feed(self, chunk: bytes) -> None:
        with self._cond:
            self._chunks.append(chunk)
            self._size += len(chunk)
            if self._size >= self._wanted:
                self._cond.notify()
            if self._size >= self._high_water:
                self._space.clear()
        await self._space.wait()

    def finish(self) -> None:
        with self._cond:
            self._done = True
            self._cond.notify()

    def fail(self, exc: BaseException) -> None:
        """Make the writer's next ``read`` raise ``exc`` (it then abandons its write)."""
        with self._cond:
            self._error = exc
            self._cond.notify()
        self._space.set()

    def wake(self) -> None:
        """Let a waiting ``feed`` return (the writer has finished or failed)."""
        self._space.set()

    # -- the writer thread's side -------------------------------------------------------

    def read(self, n: int = -1, /) -> bytes:
        with self._cond:
            self._wanted = n if n is not None and n > 0 else self._high_water
            ready = self._cond.wait_for(lambda: self._error is not None or self._done or self._size >= self._wanted,
                                        self._timeout)
            if self._error is not None:
                raise self._error
            if not ready:
                raise RequestTimeout(f"The request body arrived too slowly: less than {self._wanted} bytes in "
                                     f"{self._timeout:g} s; send it again")
            data = b"".join(self._chunks)
            self._chunks.clear()
            if n is not None and 0 < n < len(data):
                self._chunks.append(data[n:])
                data = data[:n]
            self._size -= len(data)
            self._wanted = 0
            if self._size < self._high_water:
                self._loop.call_soon_threadsafe(self._space.set)
            return data


async def pump(receive: Any, pipe: BodyPipe, writer: "asyncio.Future[Any] | Future[Any]", timeout: float,
               head: list[bytes]) -> None:
    """Feed ``head`` (already received), then the rest of the body, into ``pipe`` until the
    body ends or ``writer`` finishes (a failed writer stops the upload at once)."""
    while head and not writer.done():
        await pipe.feed(head.pop(0))
    while not writer.done():
        message = await receive_message(receive, timeout)
        body = message.get("body", b"")
        if body:
            await pipe.feed(body)
        if not message.get("more_body", False):
            pipe.finish()
            return

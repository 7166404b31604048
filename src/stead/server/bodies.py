"""Request bodies received on the event loop, so that a slow client never holds a thread.

Every byte of a body is received on the event loop, watched by ``Deadlines``: a body that
stops arriving for ``timeout`` seconds is a ``RequestTimeout`` (408). A worker thread is
handed only bytes that are already here: an upload that fits ``window`` is written by one
call once it is complete; a bigger one is written while it streams in, through a
``BodyPipe`` whose ``read(n)`` waits for ``n`` bytes at most ``timeout`` seconds, and whose
read-ahead is bounded so that memory stays at a few MiB per upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

from stead.errors import InvalidParameter, RequestTimeout

__all__ = ["Deadlines", "Watch", "receive_message", "read_window", "BodyPipe", "pump"]


class Watch:
    """One body being received: when it last made progress, and whether it ran out of time."""

    __slots__ = ("task", "last", "expired")

    def __init__(self, task: "asyncio.Task[Any]", now: float) -> None:
        self.task = task
        self.last = now
        self.expired = False

    def touch(self, now: float) -> None:
        self.last = now

    def pause(self) -> None:
        """Waiting on the server (a full pipe), not on the client: no deadline meanwhile."""
        self.last = math.inf


class Deadlines:
    """The deadline of every body being received, kept by one sweeper task per event loop.

    A timer per request (``asyncio.timeout``) costs tens of microseconds on every JSON call;
    here a request only notes the time (``start``, ``touch``, ``stop``), and a task that wakes
    every ``timeout / 4`` seconds (at most every second) cancels the reads that made no
    progress for ``timeout`` seconds. The sweeper ends when nothing is left to watch.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._interval = min(1.0, timeout / 4)
        self._active: dict[asyncio.Task[Any], Watch] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> Watch:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        watch = Watch(task, loop.time())
        self._active[task] = watch
        sweeper = self._sweeper
        if sweeper is None or sweeper.done() or sweeper.get_loop() is not loop:
            self._sweeper = loop.create_task(self._sweep(loop))
        return watch

    def stop(self, watch: Watch) -> None:
        if self._active.get(watch.task) is watch:
            del self._active[watch.task]

    @contextlib.contextmanager
    def watching(self) -> Iterator[Watch]:
        """Watch the body received inside the block (``start``, then ``stop`` at the end;
        ``stop`` may come earlier); a read the sweeper cancelled leaves it as a 408."""
        watch = self.start()
        try:
            yield watch
        except asyncio.CancelledError:
            if not watch.expired:
                raise
            watch.task.uncancel()
            raise RequestTimeout(f"The request body stopped arriving: nothing came for {self.timeout:g} s; "
                                 "send it again") from None
        finally:
            self.stop(watch)

    async def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            await asyncio.sleep(self._interval)
            watching = [w for w in self._active.values() if w.task.get_loop() is loop]
            if not watching:
                return
            now = loop.time()
            for watch in watching:
                if not watch.expired and now - watch.last > self.timeout:
                    watch.expired = True
                    watch.task.cancel()


async def receive_message(receive: Any, watch: Watch) -> dict[str, Any]:
    """The next ASGI message of a body under ``watch``."""
    message: dict[str, Any] = await receive()
    if message["type"] == "http.disconnect":
        raise InvalidParameter("The client disconnected before the request body was complete")
    watch.touch(asyncio.get_running_loop().time())
    return message


async def read_window(receive: Any, window: int, watch: Watch) -> tuple[list[bytes], int, bool]:
    """Receive until ``window`` bytes or the end: ``(chunks, size, complete)``."""
    chunks: list[bytes] = []
    size = 0
    while size < window:
        message = await receive_message(receive, watch)
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

    async def feed(self, chunk: bytes, watch: Watch) -> None:
        with self._cond:
            self._chunks.append(chunk)
            self._size += len(chunk)
            if self._size >= self._wanted:
                self._cond.notify()
            if self._size >= self._high_water:
                self._space.clear()
        if not self._space.is_set():
            watch.pause()  # the writer is behind: the client is not the one to blame
            await self._space.wait()
            watch.touch(asyncio.get_running_loop().time())

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
        """Up to ``n`` bytes, b"" at the end; without ``n``, what is here (never the whole
        body at once: the stores read in chunks, and a whole body could be any size)."""
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


async def pump(receive: Any, pipe: BodyPipe, writer: "asyncio.Future[Any] | Future[Any]", watch: Watch,
               head: list[bytes]) -> None:
    """Feed ``head`` (already received), then the rest of the body, into ``pipe`` until the
    body ends or ``writer`` finishes (a failed writer stops the upload at once)."""
    while head and not writer.done():
        await pipe.feed(head.pop(0), watch)
    while not writer.done():
        message = await receive_message(receive, watch)
        body = message.get("body", b"")
        if body:
            await pipe.feed(body, watch)
        if not message.get("more_body", False):
            pipe.finish()
            return

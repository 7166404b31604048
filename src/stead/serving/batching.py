"""Adaptive batching: concurrent requests for one model run through it together.

One task per model takes what is queued (up to ``max_batch_size`` requests), runs the batch
in the model's worker thread, and hands each request its own answer. Requests that arrive
while a batch runs form the next batch, so under load batches grow by themselves and at
low load a request waits for nobody. ``max_latency_ms`` > 0 additionally holds a batch that
is not full for up to that long after its first request arrived, to gather more.
``inline=True`` runs each batch on the event loop itself, for models whose cost is known to
be microseconds (a linear model run with NumPy): the hop to a worker thread and back would
cost more than the prediction.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

__all__ = ["Batcher"]


class Batcher:
    """Queue requests; ``run(items) -> results`` (one result or exception per item) in ``executor``."""

    def __init__(self, run: Callable[[list[Any]], list[Any]], executor: Executor, *, max_batch_size: int = 64,
                 max_latency_ms: float = 0.0, on_batch: Callable[[int], None] | None = None,
                 inline: bool = False) -> None:
        self._run = run
        self._inline = inline
        self._executor = executor
        self.max_batch_size = max(1, max_batch_size)
        self.max_latency_s = max(0.0, max_latency_ms) / 1000.0
        self._on_batch = on_batch
        self._queue: deque[tuple[Any, asyncio.Future[Any], float]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="stead-batcher")

    async def submit(self, item: Any) -> Any:
        """The model's answer for ``item``; raises the exception the model run returned for it."""
        if self._closing:
            raise RuntimeError("batcher is closed")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((item, fut, time.monotonic()))
        self._idle.clear()
        self._wake.set()
        return await fut

    async def _gather(self) -> None:
        """Wait (at most ``max_latency_s`` after the first request) for a full batch."""
        deadline = self._queue[0][2] + self.max_latency_s
        while len(self._queue) < self.max_batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), left)
            except TimeoutError:
                return

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            if self.max_latency_s:
                await self._gather()
            batch: list[tuple[Any, asyncio.Future[Any]]] = []
            while self._queue and len(batch) < self.max_batch_size:
                item, fut, _ = self._queue.popleft()
                if not fut.done():  # a request that timed out is not run
                    batch.append((item, fut))
            if not batch:
                continue
            if self._on_batch is not None:
                self._on_batch(len(batch))
            try:
                items = [i for i, _ in batch]
                results = self._run(items) if self._inline else await loop.run_in_executor(self._executor, self._run,
                                                                                           items)
            except BaseException as exc:  # noqa: BLE001 - the executor itself failed
                results = [exc] * len(batch)
            for (_, fut), result in zip(batch, results):
                if fut.done():
                    continue
                if isinstance(result, BaseException):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)

    async def close(self) -> None:
        """Finish every queued request, then stop."""
        self._closing = True
        await self._idle.wait()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

"""Metric points buffered in memory and written in batches by a background thread.

``add`` costs microseconds; points reach the store at most ``interval`` seconds later, in
batches of up to ``batch_size``. ``flush`` returns only once every point added before it is
durable, and re-raises the first error a background write met, so nothing fails silently.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from stead.tracking.records import Metric

__all__ = ["MetricBuffer"]

WriteBatch = Callable[[str, Sequence[Metric]], None]


class MetricBuffer:
    def __init__(self, write: WriteBatch, *, batch_size: int = 1000, interval: float = 0.5) -> None:
        self._write = write
        self._batch_size = batch_size
        self._interval = interval
        self._pending: dict[str, list[Metric]] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._write_lock = threading.Lock()
        self._error: BaseException | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="stead-metric-writer", daemon=True)
            self._thread.start()

    def add(self, run_id: str, metric: Metric) -> None:
        self.add_many(run_id, (metric,))

    def add_many(self, run_id: str, points: Sequence[Metric]) -> None:
        with self._lock:
            self._raise_pending_error()
            self._pending.setdefault(run_id, []).extend(points)
            self._count += len(points)
            if self._count >= self._batch_size:
                self._wake.notify()
            self._ensure_thread()

    def _raise_pending_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _take(self) -> dict[str, list[Metric]]:
        with self._lock:
            taken, self._pending, self._count = self._pending, {}, 0
            return taken

    def _write_all(self, taken: dict[str, list[Metric]]) -> None:
        for run_id, points in taken.items():
            for i in range(0, len(points), self._batch_size):
                self._write(run_id, points[i : i + self._batch_size])

    def flush(self) -> None:
        """Write everything buffered so far; raise the first error any write met."""
        with self._write_lock:
            taken = self._take()
            self._write_all(taken)
        with self._lock:
            self._raise_pending_error()

    def pending(self) -> int:
        with self._lock:
            return self._count

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._closed and self._count < self._batch_size:
                    self._wake.wait(self._interval)
                if self._closed and not self._count:
                    return
            with self._write_lock:
                taken = self._take()
                try:
                    self._write_all(taken)
                except BaseException as exc:  # surfaced by the next add/flush
                    with self._lock:
                        self._error = self._error or exc

    def close(self) -> None:
        """Flush and stop the writer thread."""
        with self._lock:
            self._closed = True
            self._wake.notify()
        try:
            self.flush()
        finally:
            if self._thread is not None:
                self._thread.join(timeout=30)
                self._thread = None
            with self._lock:
                self._closed = False

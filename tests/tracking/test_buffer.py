"""The metric buffer: batching, flush durability, errors surfacing."""

from __future__ import annotations

import threading

import pytest

from stead.tracking.buffer import MetricBuffer
from stead.tracking.records import Metric


def test_flush_writes_everything_in_batches():
    written: list[tuple[str, int]] = []
    buf = MetricBuffer(lambda run, pts: written.append((run, len(pts))), batch_size=100, interval=60)
    for i in range(250):
        buf.add("r1", Metric("m", float(i), i, i))
    buf.flush()
    assert sum(n for _, n in written) == 250
    assert max(n for _, n in written) <= 100
    assert buf.pending() == 0
    buf.close()


def test_background_writer_runs_when_batch_is_full():
    done = threading.Event()
    seen: list[int] = []

    def write(run, pts):
        seen.append(len(pts))
        done.set()

    buf = MetricBuffer(write, batch_size=10, interval=60)
    for i in range(10):
        buf.add("r", Metric("m", 1.0, i, i))
    assert done.wait(10), "the writer thread did not write a full batch"
    assert seen == [10]
    buf.close()


def test_background_error_surfaces_on_flush():
    def write(run, pts):
        raise RuntimeError("disk full")

    buf = MetricBuffer(write, batch_size=1, interval=60)
    buf.add("r", Metric("m", 1.0, 0, 0))
    with pytest.raises(RuntimeError, match="disk full"):
        buf.flush()

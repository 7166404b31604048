"""Recording a pipeline run as it goes: changed step records in batches, and the end.

Step records are written at most every half second (one transaction per batch) and
always at the end. Before each batch the artifact store is synced, so that no record
points at bytes that are not durable yet.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from stead.pipelines.records import PipelineRecords, PipelineRun, RunStatus, StepRun, StepStatus, now_ms

if TYPE_CHECKING:
    from stead.pipelines.serializers import ObjectStore

__all__ = ["RunRecorder", "finish_step"]

_FLUSH_EVERY_S = 0.5


def finish_step(step_run: StepRun, status: str, error: str | None) -> None:
    """Give ``step_run`` its final ``status`` (a FAILED step keeps its last error unless given one)."""
    step_run.status = status
    if error is not None or status != StepStatus.FAILED:
        step_run.error = error
    step_run.end_time = now_ms()
    if step_run.start_time is not None and step_run.duration is None:
        step_run.duration = (step_run.end_time - step_run.start_time) / 1000


class RunRecorder:
    """The step records and cache entries of one run not yet written, and when to write them."""

    def __init__(self, records: PipelineRecords, run: PipelineRun, artifacts: "ObjectStore") -> None:
        self.records = records
        self.run = run
        self.artifacts = artifacts
        self.dirty: dict[str, StepRun] = {}
        self.new_cache: list[tuple[str, str, list[dict[str, Any]], str]] = []
        self.last_flush = time.monotonic()

    def changed(self, step_run: StepRun) -> None:
        self.dirty[step_run.step_id] = step_run

    def cache(self, step_run: StepRun, step_name: str) -> None:
        """Remember ``step_run``'s outputs under its cache key (written with the next batch)."""
        assert step_run.cache_key is not None
        self.new_cache.append((step_run.cache_key, step_name, step_run.outputs, self.run.run_id))

    def maybe_flush(self) -> None:
        if time.monotonic() - self.last_flush >= _FLUSH_EVERY_S:
            self.flush()

    def flush(self, run_changed: bool = False) -> None:
        steps = list(self.dirty.values())
        self.dirty.clear()
        cache, self.new_cache = self.new_cache, []
        self.artifacts.sync()  # the bytes are durable before any record points at them
        self.records.save(steps, run=self.run if run_changed else None, cache=cache)
        self.last_flush = time.monotonic()

    def finish(self, steps: Iterable[StepRun]) -> None:
        """Record the run as SUCCEEDED, or FAILED with what failed and what did not run."""
        steps = list(steps)
        run = self.run
        failed = [s for s in steps if s.status == StepStatus.FAILED]
        blocked = [s for s in steps if s.status == StepStatus.UPSTREAM_FAILED]
        run.end_time = now_ms()
        if failed:
            run.status = RunStatus.FAILED
            parts = [f"{s.step_id} ({s.error})" for s in failed]
            run.error = f"{len(failed)} of {len(steps)} steps failed: " + "; ".join(parts)
            if blocked:
                run.error += "; not run because of it: " + ", ".join(s.step_id for s in blocked)
        else:
            run.status = RunStatus.SUCCEEDED
        self.flush(run_changed=True)

    def cancel(self, steps: Iterable[StepRun]) -> None:
        """Record the run and every unfinished step as CANCELLED (Ctrl-C)."""
        for step_run in steps:
            if step_run.status not in StepStatus.FINAL:
                finish_step(step_run, StepStatus.CANCELLED, "cancelled (Ctrl-C)")
                self.changed(step_run)
        run = self.run
        run.status = RunStatus.CANCELLED
        run.end_time = now_ms()
        run.error = "cancelled by the user (Ctrl-C); continue with `stead pipeline resume " + run.run_id + "`"
        self.flush(run_changed=True)

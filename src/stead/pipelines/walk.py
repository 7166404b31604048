"""The walk of one pipeline run: the graph in topological order, one step at a time.

One loop in the calling thread. A step whose inputs are ready is resolved in this order:
an upstream failed (UPSTREAM_FAILED) or was skipped (SKIPPED); its condition is false
(SKIPPED); its cache key has stored outputs (CACHED); else it runs - in this thread when
it is the only ready step and the executor allows it, otherwise on the executor, up to
its ``max_parallel`` at a time. A failed attempt is retried as the step asks; a step past
its timeout is cancelled. Ctrl-C cancels what runs and records CANCELLED.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any

from stead.errors import SteadError
from stead.pipelines.cache_lookup import CacheLookup
from stead.pipelines.execute import StepResult, StepTask, execute_task, open_artifacts
from stead.pipelines.inputs import StepInputs
from stead.pipelines.recording import RunRecorder, finish_step
from stead.pipelines.records import PipelineRecords, PipelineRun, StepRun, StepStatus, now_ms
from stead.pipelines.serializers import StoredOutput
from stead.pipelines.step_client import bind_tracking_client

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.pipelines.executors import Executor
    from stead.pipelines.graph import Graph

__all__ = ["Walk", "Hook"]

Hook = Callable[..., None]
"""Called as ``hook(event=..., run=PipelineRun, **context)`` for run_started, step_started,
step_retry, step_finished (with ``step=StepRun``) and run_finished."""


class Walk:
    """The state of one pipeline run while it executes."""

    def __init__(
        self,
        graph: "Graph",
        run: PipelineRun,
        records: PipelineRecords,
        executor: "Executor",
        settings: "Settings",
        *,
        no_cache: bool = False,
        hooks: Sequence[Hook] = (),
        resume_from: PipelineRun | None = None,
    ) -> None:
        self.graph = graph
        self.run_record = run
        self.records = records
        self.executor = executor
        self.settings = settings
        self.hooks = hooks
        artifacts = open_artifacts(settings.resolved_artifacts_url, settings.aws)
        self.inputs = StepInputs(artifacts)
        self.lookup = CacheLookup(records, artifacts, no_cache=no_cache,
                                  resumed=resume_from.steps if resume_from is not None else ())
        self.recorder = RunRecorder(records, run, artifacts)
        self.steps = {
            n.id: StepRun(run.run_id, n.id, i, n.step.name) for i, n in enumerate(graph.nodes.values())
        }
        self.inflight: dict[Future[StepResult], str] = {}
        self.deadlines: dict[Future[StepResult], float] = {}
        self.retry_at: list[tuple[float, str]] = []
        self.tasks: dict[str, StepTask] = {}
        self.cancelled = False

    # -- a whole run -------------------------------------------------------------------
    def run(self) -> PipelineRun:
        """Record the run, walk every step to a final state, record the end; the run record."""
        run = self.run_record
        self.executor.bind(run, self.graph, self.settings)  # may refuse before anything is recorded
        self.lookup.prefetch(run.pipeline)
        run.steps = list(self.steps.values())
        self.records.create(run, run.steps)
        self._emit("run_started")
        restore_client = bind_tracking_client(self.settings, self.records.store)
        order = self.graph.topological_order()
        waiting = {nid: set(self.graph.nodes[nid].upstream) for nid in order}
        down = self.graph.downstream()
        ready: deque[str] = deque(nid for nid in order if not waiting[nid])
        finished = 0
        total = len(order)
        try:
            while finished < total:
                while ready and len(self.inflight) < self.executor.max_parallel:
                    nid = ready.popleft()
                    solo = not ready and not self.inflight and not self.retry_at
                    if self._start(nid, solo):
                        finished += self._done(nid, waiting, down, ready)
                if finished >= total:
                    break
                for nid in self._wait():
                    finished += self._done(nid, waiting, down, ready)
                self.recorder.maybe_flush()
            self.recorder.finish(self.steps.values())
            self._emit("run_finished")
        except KeyboardInterrupt:
            self.cancelled = True
            for future in list(self.inflight):
                self.executor.cancel(future)
            self.recorder.cancel(self.steps.values())
            self._emit("run_finished")
        finally:
            restore_client()
            self.lookup.close()
        return run

    # -- one step of a run recorded elsewhere (a Kubernetes pod) ------------------------
    def restore(self, steps: Iterable[StepRun]) -> None:
        """Take the recorded state of steps that ran elsewhere (their status and outputs)."""
        for s in steps:
            if s.step_id in self.steps:
                self.steps[s.step_id] = s
                if s.outputs:
                    self.inputs.stored[s.step_id] = [StoredOutput.from_json(o) for o in s.outputs]

    def run_step(self, step_id: str) -> StepRun:
        """Resolve or run ``step_id`` alone (its upstream steps are done) and record it."""
        try:
            final = self._start(step_id, solo=True)
            while not final:
                final = step_id in self._wait()
            self.recorder.flush()
        finally:
            self.lookup.close()
        return self.steps[step_id]

    # -- the steps ---------------------------------------------------------------------
    def _done(self, nid: str, waiting: dict[str, set[str]], down: dict[str, list[str]], ready: deque[str]) -> int:
        self._emit("step_finished", step=self.steps[nid])
        for child in down[nid]:
            waiting[child].discard(nid)
            if not waiting[child]:
                ready.append(child)
        return 1

    def _start(self, nid: str, solo: bool) -> bool:
        """Resolve or launch ``nid``; True when it is already final."""
        node = self.graph.nodes[nid]
        step_run = self.steps[nid]
        ups = [self.steps[u] for u in sorted(node.upstream)]
        bad = [u for u in ups if u.status in (StepStatus.FAILED, StepStatus.UPSTREAM_FAILED, StepStatus.CANCELLED)]
        if bad:
            return self._final(step_run, StepStatus.UPSTREAM_FAILED, f"upstream {bad[0].step_id!r} {bad[0].status.lower()}")
        skipped = [u for u in ups if u.status == StepStatus.SKIPPED]
        if skipped:
            return self._final(step_run, StepStatus.SKIPPED, f"upstream {skipped[0].step_id!r} was skipped")
        try:
            if node.condition is not None and not node.condition.evaluate(self.inputs.value_of):
                return self._final(step_run, StepStatus.SKIPPED, f"condition {node.condition.describe()} is false")
            key = self.inputs.cache_key(node)
        except SteadError as exc:
            return self._final(step_run, StepStatus.FAILED, exc.message)
        except Exception as exc:  # a condition that raised, an unhashable argument
            return self._final(step_run, StepStatus.FAILED, f"{type(exc).__name__}: {exc}")
        step_run.cache_key = key
        hit = self.lookup.get(node, key)
        if hit is not None:
            self.inputs.stored[nid] = hit
            step_run.cache_hit = True
            step_run.outputs = [s.to_json() for s in hit]
            step_run.start_time = step_run.end_time = now_ms()
            step_run.duration = 0.0
            return self._final(step_run, StepStatus.CACHED, None)
        task = StepTask(
            run_id=self.run_record.run_id,
            step_id=nid,
            step=node.step,
            arguments=self.inputs.arguments(node),
            attempt=1,
            settings=self.settings,
        )
        self.tasks[nid] = task
        step_run.status = StepStatus.RUNNING
        step_run.start_time = now_ms()
        self._emit("step_started", step=step_run)
        return self._launch(task, solo)

    def _launch(self, task: StepTask, solo: bool) -> bool:
        step_run = self.steps[task.step_id]
        step_run.attempt = task.attempt
        self.recorder.changed(step_run)
        if solo and self.executor.inline(task):
            return self._handle(task.step_id, execute_task(task))
        future = self.executor.submit(task)
        self.inflight[future] = task.step_id
        if task.step.timeout:
            self.deadlines[future] = time.monotonic() + task.step.timeout
        return False

    def _wait(self) -> list[str]:
        """Block until a step finishes, a timeout passes or a retry is due; the final ones."""
        now = time.monotonic()
        due = [nid for at, nid in self.retry_at if at <= now]
        if due:
            self.retry_at = [(at, nid) for at, nid in self.retry_at if at > now]
            return [nid for nid in due if self._launch(self.tasks[nid], solo=False)]
        wake = list(self.deadlines.values()) + [at for at, _ in self.retry_at]
        timeout = max(0.0, min(wake) - now) if wake else None
        if not self.inflight:
            time.sleep(timeout or 0)  # only a retry delay is pending
            return []
        done, _ = wait(list(self.inflight), timeout=timeout, return_when=FIRST_COMPLETED)
        finals = []
        for future in done:
            nid = self.inflight.pop(future)
            self.deadlines.pop(future, None)
            try:
                result = future.result()
            except BaseException as exc:  # the worker died or the backend failed
                result = StepResult(nid, ok=False, error=f"{type(exc).__name__}: {exc}", start=time.time(), end=time.time())
            if self._handle(nid, result):
                finals.append(nid)
        now = time.monotonic()
        for future, deadline in list(self.deadlines.items()):
            if deadline <= now and not future.done():
                nid = self.inflight.pop(future)
                del self.deadlines[future]
                self.executor.cancel(future)
                step = self.tasks[nid].step
                result = StepResult(nid, ok=False, error=f"timed out after {step.timeout:g}s", start=now, end=now)
                if self._handle(nid, result):
                    finals.append(nid)
        return finals

    def _handle(self, nid: str, result: StepResult) -> bool:
        """Record an attempt's result; True when the step is final (not retried)."""
        step_run = self.steps[nid]
        task = self.tasks[nid]
        if task.attempt > 1 or (not result.ok and task.step.retries):
            step_run.logs += f"--- attempt {task.attempt} ---\n"
        step_run.logs += result.logs
        if result.tracking_run_id:
            step_run.tracking_run_id = result.tracking_run_id
        if result.ok:
            self.inputs.stored[nid] = result.outputs
            if result.values is not None:
                self.inputs.values[nid] = result.values
            step_run.outputs = [s.to_json() for s in result.outputs]
            step_run.error = None
            if task.step.cache and step_run.cache_key:
                self.recorder.cache(step_run, task.step.name)
            return self._final(step_run, StepStatus.SUCCEEDED, None)
        step_run.error = result.error
        if task.attempt <= task.step.retries:
            task.attempt += 1
            self.recorder.changed(step_run)
            self._emit("step_retry", step=step_run)
            if task.step.retry_delay:
                self.retry_at.append((time.monotonic() + task.step.retry_delay, nid))
                return False
            return self._launch(task, solo=False)
        return self._final(step_run, StepStatus.FAILED, result.error)

    def _final(self, step_run: StepRun, status: str, error: str | None) -> bool:
        finish_step(step_run, status, error)
        self.recorder.changed(step_run)
        return True

    def _emit(self, event: str, **context: Any) -> None:
        for hook in self.hooks:
            hook(event=event, run=self.run_record, **context)

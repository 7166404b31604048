"""The runner: walk the graph, reuse cached outputs, send the rest to an executor, record.

One loop in the calling thread. A step whose inputs are ready is resolved in this order:
an upstream failed (UPSTREAM_FAILED) or was skipped (SKIPPED); its condition is false
(SKIPPED); its cache key has stored outputs (CACHED); else it runs - in this thread when
it is the only ready step and light, otherwise on the executor, up to ``max_parallel`` at
a time. Step records are written in batches (one transaction per batch), and always at
the end; Ctrl-C cancels what runs and records CANCELLED.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, NotFound, SteadError
from stead.pipelines.cache_key import cache_key, code_hash, value_hash
from stead.pipelines.execute import Ref, StepResult, StepTask, execute_task, open_artifacts
from stead.pipelines.records import PipelineRecords, PipelineRun, RunStatus, StepRun, StepStatus, now_ms
from stead.pipelines.serializers import StoredOutput, load_value

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.pipelines.dsl import Pipeline
    from stead.pipelines.graph import Graph, Node
    from stead.store.engine import Store

__all__ = ["run_pipeline", "resume_pipeline", "load_output", "open_pipeline_store", "Hook"]

Hook = Callable[..., None]
_FLUSH_EVERY_S = 0.5
_STORES: dict[str, "Store"] = {}


def open_pipeline_store(settings: "Settings") -> "Store":
    """The metadata store of ``settings`` (opened and migrated once per process)."""
    url = settings.resolved_store_url
    store = _STORES.get(url)
    if store is None:
        from stead.store import open_store

        store = _STORES[url] = open_store(url)
    return store


def run_pipeline(
    pipeline: "Pipeline",
    params: Mapping[str, Any] | None = None,
    *,
    settings: "Settings | None" = None,
    executor: str = "local",
    executor_options: Mapping[str, Any] | None = None,
    max_parallel: int | None = None,
    no_cache: bool = False,
    run_id: str | None = None,
    source: str | None = None,
    trigger: str = "manual",
    hooks: Sequence[Hook] = (),
    resume_from: PipelineRun | None = None,
) -> PipelineRun:
    """Build ``pipeline`` with ``params`` and run it; returns the finished run record.

    Bad input (a missing or unknown parameter, a cycle, an unknown executor, an executor
    that cannot be reached) raises before anything runs. A failing step does not raise:
    the returned run is FAILED and its ``error`` summarises what failed and what did not run.
    """
    from stead.config import load_settings
    from stead.pipelines.executors import get_executor
    from stead.pipelines.loader import source_of

    settings = settings or load_settings()
    graph = pipeline.build(params)
    store = open_pipeline_store(settings)
    records = PipelineRecords(store)
    options = dict(executor_options or {})
    if executor == "kubernetes":
        options.setdefault("settings", settings)  # its pods need this store: checked before the run is recorded
    runner_executor = get_executor(executor, max_parallel=max_parallel, **options)
    run = PipelineRun(
        run_id=run_id or uuid.uuid4().hex,
        pipeline=pipeline.name,
        source=source or source_of(pipeline),
        params=graph.params,
        executor=executor,
        status=RunStatus.RUNNING,
        created_time=now_ms(),
        start_time=now_ms(),
        graph=graph.describe(),
        no_cache=no_cache,
        resumed_from=resume_from.run_id if resume_from else None,
        trigger=trigger,
    )
    walk = _Walk(graph, run, records, runner_executor, settings, no_cache, hooks, resume_from)
    try:
        return walk.run()
    finally:
        runner_executor.close(cancel=walk.cancelled)


def resume_pipeline(
    run_id: str,
    *,
    settings: "Settings | None" = None,
    executor: str | None = None,
    max_parallel: int | None = None,
    hooks: Sequence[Hook] = (),
) -> PipelineRun:
    """Run a failed or cancelled run again as a new run, reusing every step that succeeded.

    A step is reused when its cache key is unchanged (same code, parameters and inputs),
    even if it is marked ``cache=False``; everything after the last good steps runs.
    """
    from stead.config import load_settings
    from stead.pipelines.loader import load_pipeline

    settings = settings or load_settings()
    previous = PipelineRecords(open_pipeline_store(settings)).get(run_id)
    if previous.status == RunStatus.SUCCEEDED:
        raise InvalidParameter(f"Pipeline run {previous.run_id} succeeded; there is nothing to resume")
    if previous.status in (RunStatus.RUNNING, RunStatus.PENDING):
        raise InvalidParameter(
            f"Pipeline run {previous.run_id} is still {previous.status}; wait for it or cancel it first"
        )
    pipeline = load_pipeline(previous.source)
    return run_pipeline(
        pipeline,
        previous.params,
        settings=settings,
        executor=executor or previous.executor,
        max_parallel=max_parallel,
        no_cache=previous.no_cache,
        source=previous.source,
        trigger=f"resume:{previous.run_id}",
        hooks=hooks,
        resume_from=previous,
    )


def load_output(run: PipelineRun, step_id: str, settings: "Settings | None" = None, index: int = 0) -> Any:
    """The value a step of a finished run produced (read back from the artifact store)."""
    from stead.config import load_settings

    settings = settings or load_settings()
    step = run.step(step_id)
    if not step.outputs:
        raise NotFound(f"Step {step_id!r} of pipeline run {run.run_id} has no stored output ({step.status})")
    stored = StoredOutput.from_json(step.outputs[index])
    return load_value(stored, open_artifacts(settings.resolved_artifacts_url, settings.aws))


class _Walk:
    """The state of one pipeline run while it executes."""

    def __init__(
        self,
        graph: "Graph",
        run: PipelineRun,
        records: PipelineRecords,
        executor: Any,
        settings: "Settings",
        no_cache: bool,
        hooks: Sequence[Hook],
        resume_from: PipelineRun | None,
    ) -> None:
        self.graph = graph
        self.run_record = run
        self.records = records
        self.executor = executor
        self.settings = settings
        self.no_cache = no_cache
        self.hooks = hooks
        self.artifacts = open_artifacts(settings.resolved_artifacts_url, settings.aws)
        self.steps = {
            n.id: StepRun(run.run_id, n.id, i, n.step.name) for i, n in enumerate(graph.nodes.values())
        }
        self.stored: dict[str, list[StoredOutput]] = {}
        self.values: dict[str, list[Any]] = {}
        self.dirty: dict[str, StepRun] = {}
        self.new_cache: list[tuple[str, str, list[dict[str, Any]], str]] = []
        self.inflight: dict[Future[StepResult], str] = {}
        self.deadlines: dict[Future[StepResult], float] = {}
        self.retry_at: list[tuple[float, str]] = []
        self.tasks: dict[str, StepTask] = {}
        self.cancelled = False
        self.last_flush = time.monotonic()
        self.reusable: dict[str, list[dict[str, Any]]] = {}
        self.prefetched: dict[str, list[dict[str, Any]]] = {}
        self.cache_reader: Any = None
        if resume_from is not None:
            self.reusable = {
                s.cache_key: s.outputs
                for s in resume_from.steps
                if s.status in StepStatus.DONE and s.cache_key and s.outputs
            }
        self.env = {
            k: v
            for k, v in (
                ("STEAD_STORE_URL", settings.resolved_store_url),
                ("STEAD_ARTIFACTS_URL", settings.resolved_artifacts_url),
                ("STEAD_HOME", str(settings.home)),
                ("STEAD_TRACKING_URI", settings.tracking_uri),
            )
            if v
        }

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> PipelineRun:
        run = self.run_record
        if not self.no_cache:
            self.prefetched = self.records.cached_by_last_run(run.pipeline)
        run.steps = list(self.steps.values())
        self.records.create(run, run.steps)
        bind = getattr(self.executor, "bind", None)
        if bind is not None:
            bind(run, self.graph, self.settings)
        self._emit("run_started")
        restore_client = _bind_tracking_client(self.settings, self.records.store)
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
                self._maybe_flush()
            self._finish()
        except KeyboardInterrupt:
            self.cancelled = True
            self._cancel()
        finally:
            restore_client()
            if self.cache_reader is not None:
                self.cache_reader.close()
        return run

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
            if node.condition is not None and not node.condition.evaluate(self._value_of):
                return self._final(step_run, StepStatus.SKIPPED, f"condition {node.condition.describe()} is false")
            key = self._cache_key(node)
        except SteadError as exc:
            return self._final(step_run, StepStatus.FAILED, exc.message)
        except Exception as exc:  # a condition that raised, an unhashable argument
            return self._final(step_run, StepStatus.FAILED, f"{type(exc).__name__}: {exc}")
        step_run.cache_key = key
        hit = self._lookup(node, key)
        if hit is not None:
            self.stored[nid] = hit
            step_run.cache_hit = True
            step_run.outputs = [s.to_json() for s in hit]
            step_run.start_time = step_run.end_time = now_ms()
            step_run.duration = 0.0
            return self._final(step_run, StepStatus.CACHED, None)
        task = StepTask(
            run_id=self.run_record.run_id,
            step_id=nid,
            step=node.step,
            arguments=self._arguments(node),
            attempt=1,
            artifacts_url=self.settings.resolved_artifacts_url,
            aws=self.settings.aws,
            env=self.env,
        )
        self.tasks[nid] = task
        step_run.status = StepStatus.RUNNING
        step_run.start_time = now_ms()
        self._emit("step_started", step=step_run)
        return self._launch(task, solo)

    def _launch(self, task: StepTask, solo: bool) -> bool:
        step_run = self.steps[task.step_id]
        step_run.attempt = task.attempt
        self.dirty[task.step_id] = step_run
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
            finals = []
            for nid in due:
                if self._launch(self.tasks[nid], solo=False):
                    finals.append(nid)
            return finals
        wake = [d for d in self.deadlines.values()] + [at for at, _ in self.retry_at]
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
            self.stored[nid] = result.outputs
            if result.values is not None:
                self.values[nid] = result.values
            step_run.outputs = [s.to_json() for s in result.outputs]
            step_run.error = None
            if task.step.cache and step_run.cache_key:
                self.new_cache.append((step_run.cache_key, task.step.name, step_run.outputs, self.run_record.run_id))
            return self._final(step_run, StepStatus.SUCCEEDED, None)
        step_run.error = result.error
        if task.attempt <= task.step.retries:
            task.attempt += 1
            self.dirty[nid] = step_run
            self._emit("step_retry", step=step_run)
            if task.step.retry_delay:
                self.retry_at.append((time.monotonic() + task.step.retry_delay, nid))
                return False
            return self._launch(task, solo=False)
        return self._final(step_run, StepStatus.FAILED, result.error)

    def _final(self, step_run: StepRun, status: str, error: str | None) -> bool:
        step_run.status = status
        if error is not None or status != StepStatus.FAILED:
            step_run.error = error
        step_run.end_time = now_ms()
        if step_run.start_time is not None and step_run.duration is None:
            step_run.duration = (step_run.end_time - step_run.start_time) / 1000
        self.dirty[step_run.step_id] = step_run
        return True

    # -- values, keys, cache --------------------------------------------------------------
    def _value_of(self, output: Any) -> Any:
        nid = output.node_id
        values = self.values.get(nid)
        if values is None:
            values = [load_value(s, self.artifacts) for s in self.stored[nid]]
            self.values[nid] = values
        return values[output.index or 0]

    def _cache_key(self, node: "Node") -> str:
        hashes = {name: self._arg_hash(value) for name, value in node.arguments.items()}
        extra = ",".join(node.step.outputs or ())
        return cache_key(code_hash(node.step), hashes, extra)

    def _arg_hash(self, value: Any) -> str:
        from stead.pipelines.dsl import Output

        if isinstance(value, Output):
            return self.stored[value.node_id][value.index or 0].hash
        if isinstance(value, (list, tuple, dict)) and _has_output(value):
            return value_hash(_swap(value, lambda o: {"__output__": self._arg_hash(o)}))
        try:
            return value_hash(value)
        except Exception as exc:
            raise InvalidParameter(
                f"argument {value!r} cannot be hashed for the cache key ({exc}); pass plain data"
            ) from None

    def _arguments(self, node: "Node") -> dict[str, Any]:
        def ref(output: Any) -> Ref:
            stored = self.stored[output.node_id][output.index or 0]
            values = self.values.get(output.node_id)
            if values is not None:
                return Ref(stored, values[output.index or 0], True)
            return Ref(stored)

        return {name: _swap(value, ref) for name, value in node.arguments.items()}

    def _lookup(self, node: "Node", key: str) -> list[StoredOutput] | None:
        outputs = self.reusable.get(key)
        if outputs is None:
            if self.no_cache or not node.step.cache:
                return None
            outputs = self.prefetched.get(key)
            if outputs is None:
                if self.cache_reader is None:
                    self.cache_reader = self.records.cache_reader()
                outputs = self.cache_reader.get(key)
        if outputs is None:
            return None
        stored = [StoredOutput.from_json(o) for o in outputs]
        if not all(self.artifacts.exists(s.path if s.serializer != "dir" else s.path + "/.manifest.json") for s in stored):
            return None  # the bytes were deleted: run the step again
        return stored

    # -- records --------------------------------------------------------------------------
    def _maybe_flush(self) -> None:
        if time.monotonic() - self.last_flush >= _FLUSH_EVERY_S:
            self._flush()

    def _flush(self, run_changed: bool = False) -> None:
        steps = list(self.dirty.values())
        self.dirty.clear()
        cache, self.new_cache = self.new_cache, []
        self.artifacts.sync()  # the bytes are durable before any record points at them
        self.records.save(steps, run=self.run_record if run_changed else None, cache=cache)
        self.last_flush = time.monotonic()

    def _finish(self) -> None:
        run = self.run_record
        failed = [s for s in self.steps.values() if s.status == StepStatus.FAILED]
        blocked = [s for s in self.steps.values() if s.status == StepStatus.UPSTREAM_FAILED]
        run.end_time = now_ms()
        if failed:
            run.status = RunStatus.FAILED
            parts = [f"{s.step_id} ({s.error})" for s in failed]
            run.error = f"{len(failed)} of {len(self.steps)} steps failed: " + "; ".join(parts)
            if blocked:
                run.error += "; not run because of it: " + ", ".join(s.step_id for s in blocked)
        else:
            run.status = RunStatus.SUCCEEDED
        self._flush(run_changed=True)
        self._emit("run_finished")

    def _cancel(self) -> None:
        for future in list(self.inflight):
            self.executor.cancel(future)
        for step_run in self.steps.values():
            if step_run.status not in StepStatus.FINAL:
                self._final(step_run, StepStatus.CANCELLED, "cancelled (Ctrl-C)")
        run = self.run_record
        run.status = RunStatus.CANCELLED
        run.end_time = now_ms()
        run.error = "cancelled by the user (Ctrl-C); continue with `stead pipeline resume " + run.run_id + "`"
        self._flush(run_changed=True)
        self._emit("run_finished")

    def _emit(self, event: str, **context: Any) -> None:
        for hook in self.hooks:
            hook(event=event, run=self.run_record, **context)


def _has_output(value: Any) -> bool:
    from stead.pipelines.dsl import _find_outputs

    return bool(_find_outputs(value))


def _swap(value: Any, fn: Callable[[Any], Any]) -> Any:
    from stead.pipelines.dsl import Output

    if isinstance(value, Output):
        return fn(value)
    if isinstance(value, list):
        return [_swap(v, fn) for v in value]
    if isinstance(value, tuple):
        return tuple(_swap(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _swap(v, fn) for k, v in value.items()}
    return value


def _bind_tracking_client(settings: "Settings", store: "Store") -> Callable[[], None]:
    """Make ``stead.start_run`` inside steps use this run's stores; undo afterwards."""
    import stead.tracking.fluent as fluent

    if fluent._client is not None or settings.is_remote:
        return lambda: None
    from stead.tracking.client import TrackingClient

    class _LazyClient(TrackingClient):
        """Opens the tracking backend only when a step actually tracks something."""

        def __init__(self) -> None:  # noqa: D107 - deliberately skips the eager backend
            self._lazy_settings = settings

        def __getattr__(self, name: str) -> Any:
            from stead.tracking.backend import EmbeddedBackend

            if name.startswith("_lazy") or "_ready" in self.__dict__:
                raise AttributeError(name)
            self.__dict__["_ready"] = True
            TrackingClient.__init__(
                self, settings, backend=EmbeddedBackend(store, settings.resolved_artifacts_url)
            )
            return getattr(self, name)

    fluent.set_client(_LazyClient())

    def restore() -> None:
        client = fluent._client
        fluent.set_client(None)
        if client is not None and "_ready" in client.__dict__:
            client.close()

    return restore

"""Running a pipeline: ``run_pipeline``, ``resume_pipeline`` and ``load_output``.

The facade over the pieces: the DSL builds the graph, an executor is chosen (and refuses
bad options before anything runs), the run is recorded, and ``Walk`` takes it through
the graph (cached outputs from ``CacheLookup``, records by ``RunRecorder``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, NotFound
from stead.pipelines.execute import open_artifacts
from stead.pipelines.records import PipelineRecords, PipelineRun, RunStatus, now_ms
from stead.pipelines.serializers import StoredOutput, load_value
from stead.pipelines.store import open_pipeline_store
from stead.pipelines.walk import Hook, Walk

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.pipelines.dsl import Pipeline

__all__ = ["run_pipeline", "resume_pipeline", "load_output"]


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
    runner_executor = get_executor(executor, max_parallel=max_parallel, **dict(executor_options or {}))
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
    walk = Walk(graph, run, records, runner_executor, settings, no_cache=no_cache, hooks=hooks, resume_from=resume_from)
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

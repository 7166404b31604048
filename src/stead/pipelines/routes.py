"""REST routes to start and read pipeline runs, under ``/api/stead/v1/pipelines/``.

So that alerts and other systems can trigger retraining:

    POST /api/stead/v1/pipelines/runs       {"pipeline": "file.py:name" | "schedule": "weekly",
                                             "params": {...}, "executor": "local", "no_cache": false}
                                            -> 202 {"run_id": "...", "status": "PENDING"}
    GET  /api/stead/v1/pipelines/runs       ?pipeline=NAME&max_results=50 -> {"runs": [...]}
    GET  /api/stead/v1/pipelines/runs/{id}  -> {"run": {... "steps": [...]}}

Only pipelines this store already knows (run before, or scheduled) can be started over
HTTP: the API never imports a file path it has not seen. Each run is its own process.
Errors use the MLflow JSON shape ``{"error_code", "message"}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from stead.errors import BadRequest, InvalidParameter, NotFound, SteadError

if TYPE_CHECKING:
    from stead.config import Settings

__all__ = ["routes", "PREFIX"]

PREFIX = "/api/stead/v1/pipelines"


def _settings(request: Request) -> "Settings":
    found = getattr(request.app.state, "settings", None)
    if found is None:
        from stead.config import load_settings

        found = request.app.state.settings = load_settings()
    return found  # type: ignore[no-any-return]


def _records(settings: "Settings") -> Any:
    from stead.pipelines.records import PipelineRecords
    from stead.pipelines.runner import open_pipeline_store

    return PipelineRecords(open_pipeline_store(settings))


def _error(exc: SteadError) -> JSONResponse:
    return JSONResponse(exc.to_json(), status_code=exc.http_status)


async def start_run(request: Request) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    try:
        body = await request.json()
    except ValueError:
        return _error(BadRequest("The body must be JSON: {\"pipeline\": \"file.py:name\", \"params\": {...}}"))
    try:
        return await run_in_threadpool(_start, _settings(request), body)
    except SteadError as exc:
        return _error(exc)


def _start(settings: "Settings", body: Any) -> JSONResponse:
    from stead.pipelines.executors import EXECUTORS
    from stead.pipelines.loader import load_pipeline
    from stead.pipelines.records import PipelineRun, RunStatus, now_ms
    from stead.pipelines.runner import open_pipeline_store
    from stead.pipelines.schedule import list_schedules

    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object")
    params = body.get("params") or {}
    executor = body.get("executor") or "local"
    if not isinstance(params, dict):
        raise InvalidParameter("'params' must be an object of parameter names to values")
    if executor not in EXECUTORS:
        raise InvalidParameter(f"Unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    records = _records(settings)
    if body.get("schedule"):
        match = [s for s in list_schedules(open_pipeline_store(settings)) if s.name == body["schedule"]]
        if not match:
            raise NotFound(f"No schedule named {body['schedule']!r}")
        source, params = match[0].source, {**match[0].params, **params}
    elif isinstance(body.get("pipeline"), str):
        source = body["pipeline"]
        if source not in records.known_sources():
            raise NotFound(
                f"Pipeline {source!r} is unknown to this server; run it once with `stead pipeline run` "
                "or schedule it, then start it over HTTP"
            )
    else:
        raise InvalidParameter("Name the pipeline: {\"pipeline\": \"file.py:name\"} or {\"schedule\": \"name\"}")
    pipeline = load_pipeline(source)
    resolved = pipeline.resolve_params(params)  # a bad parameter is a 400 now, not a failed run later
    run = PipelineRun(uuid.uuid4().hex, pipeline.name, source, resolved, executor, RunStatus.PENDING, now_ms(),
                      no_cache=bool(body.get("no_cache")), trigger="api")
    records.create_pending(run)
    _launch(settings, run)
    return JSONResponse({"run_id": run.run_id, "status": run.status}, status_code=202)


def _launch(settings: "Settings", run: Any) -> None:
    args = [sys.executable, "-c", "from stead.cli.main import run; run()", "pipeline", "run", run.source,
            "--run-id", run.run_id, "--trigger", "api", "-x", run.executor]
    if run.no_cache:
        args.append("--no-cache")
    for key, value in run.params.items():
        args += ["-p", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    env = {**os.environ, "STEAD_STORE_URL": settings.resolved_store_url,
           "STEAD_ARTIFACTS_URL": settings.resolved_artifacts_url, "STEAD_HOME": str(settings.home)}
    logs = Path(settings.home) / "pipeline-api"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{run.run_id}.log", "ab") as out:
        subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)


async def list_runs(request: Request) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    try:
        limit = int(request.query_params.get("max_results", "50"))
    except ValueError:
        return _error(InvalidParameter("max_results must be an integer"))
    pipeline = request.query_params.get("pipeline")
    try:
        runs = await run_in_threadpool(lambda: _records(_settings(request)).list(pipeline, min(limit, 1000)))
    except SteadError as exc:
        return _error(exc)
    return JSONResponse({"runs": [r.to_json() for r in runs]})


async def get_run(request: Request) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    run_id = request.path_params["run_id"]
    try:
        run = await run_in_threadpool(lambda: _records(_settings(request)).get(run_id))
    except SteadError as exc:
        return _error(exc)
    return JSONResponse({"run": run.to_json()})


routes: list[Route] = [
    Route(f"{PREFIX}/runs", start_run, methods=["POST"]),
    Route(f"{PREFIX}/runs", list_runs, methods=["GET"]),
    Route(f"{PREFIX}/runs/{{run_id}}", get_run, methods=["GET"]),
]

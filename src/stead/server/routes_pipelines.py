"""REST endpoints to start and read pipeline runs, under ``/api/stead/v1/pipelines/``.

So that alerts and other systems can trigger retraining:

    POST /api/stead/v1/pipelines/runs       {"pipeline": "file.py:name" | "schedule": "weekly",
                                             "params": {...}, "executor": "local", "no_cache": false}
                                            -> {"run_id": "...", "status": "PENDING"}
    GET  /api/stead/v1/pipelines/runs       ?pipeline=NAME&max_results=50&page_token=...
                                            -> {"runs": [...], "next_page_token": "..."}
    GET  /api/stead/v1/pipelines/runs/{id}  -> {"run": {... "steps": [...]}}

Only pipelines this store already knows (run before, or scheduled) can be started over
HTTP: the API never imports a file path it has not seen. Each run is its own process.
The endpoints are a table the stead server mounts, so its authentication guards them:
reading needs a login and shows a user only the runs whose tracked experiments they may
read (``_readable``), starting a run (code executing on the server) needs an admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stead.errors import BadRequest, InvalidParameter, NotFound
from stead.server.endpoint import ADMIN, AUTHENTICATED, ApiCall, Endpoint

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from stead.config import Settings
    from stead.server.context import ServerContext
    from stead.server.users import User

__all__ = ["ENDPOINTS"]


def _records(settings: "Settings") -> Any:
    from stead.pipelines.records import PipelineRecords
    from stead.pipelines.store import open_pipeline_store

    return PipelineRecords(open_pipeline_store(settings))


def start_run(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    return _start(ctx.settings, call.params)


def _start(settings: "Settings", body: Any) -> dict[str, Any]:
    from stead.pipelines.executors import EXECUTORS
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
        match = [s for s in list_schedules(records.store) if s.name == body["schedule"]]
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
    from stead.pipelines.launch import start_run as launch_run

    run = launch_run(settings, source, params, executor=executor, no_cache=bool(body.get("no_cache")),
                     trigger="api")
    return {"run_id": run.run_id, "status": run.status}


def _readable(ctx: "ServerContext", user: "User | None") -> "list[ColumnElement[bool]]":
    """SQL conditions on ``pipeline_runs``: the runs ``user`` may read. A run is readable when
    at least one of its steps has a tracked run and ``user`` may READ the experiment of every
    one (its logs, parameters and outputs come from those steps); a run that tracked nothing
    has no owner to grant it, so only admins (and servers without ``--auth``) see it."""
    from sqlalchemy import exists, select

    from stead.pipelines.tables import pipeline_runs, pipeline_steps
    from stead.server.visibility import readable_experiments, sees_everything
    from stead.store.tables import runs

    if sees_everything(ctx, user):
        return []
    steps = pipeline_steps.c
    mine = (steps.run_id == pipeline_runs.c.run_id, steps.tracking_run_id.is_not(None))
    readable_runs = select(runs.c.run_uuid).where(*readable_experiments(ctx, user, runs.c.experiment_id))
    return [exists().where(*mine), ~exists().where(*mine, steps.tracking_run_id.not_in(readable_runs))]


def list_runs(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    from stead.tracking.paging import decode_offset_token, encode_offset_token
    from stead.wire.fields import opt_int, opt_str

    limit = opt_int(call.params, "max_results")
    limit = max(1, min(50 if limit is None else limit, 1000))
    pipeline = opt_str(call.params, "pipeline")  # a repeated key: the first one counts
    offset = decode_offset_token(opt_str(call.params, "page_token"))
    runs = _records(ctx.settings).list(pipeline, limit + 1, offset=offset, where=_readable(ctx, call.user))
    out: dict[str, Any] = {"runs": [r.to_json() for r in runs[:limit]]}
    if len(runs) > limit:
        out["next_page_token"] = encode_offset_token(offset + limit)
    return out


def get_run(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    from stead.server.visibility import hidden, sees_everything

    run_id = str(call.path_params["run_id"])
    try:
        run = _records(ctx.settings).get(run_id, where=_readable(ctx, call.user))
    except NotFound:
        if sees_everything(ctx, call.user):
            raise
        raise hidden("Pipeline run", run_id, call.user) from None  # the same words whether it exists or not
    return {"run": run.to_json()}


ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/pipelines/runs", start_run, ADMIN, "Start a run of a pipeline this store knows",
             request_fields=("pipeline", "schedule", "params", "executor", "no_cache"),
             response_fields=("run_id", "status")),
    Endpoint("GET", "/pipelines/runs", list_runs, AUTHENTICATED, "List pipeline runs",
             request_fields=("pipeline", "max_results", "page_token"), response_fields=("runs", "next_page_token")),
    Endpoint("GET", "/pipelines/runs/{run_id}", get_run, AUTHENTICATED, "Get a pipeline run with its steps",
             response_fields=("run",)),
]

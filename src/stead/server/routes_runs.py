"""MLflow run endpoints: lifecycle, logging, search, metric history, artifact listing."""

from __future__ import annotations

from typing import Any

from stead.errors import InvalidParameter, NotFound
from stead.server.context import ServerContext
from stead.server.endpoint import AUTHENTICATED, Access, ApiCall, Endpoint
from stead.tracking import validation as v
from stead.tracking.records import Metric, RunInput
from stead.wire.fields import opt_int, opt_list, opt_str, parse_double, req_str, run_status_of, tags_of, view_type_of
from stead.wire.tracking_json import metric_json, run_info_json, run_json

__all__ = ["ENDPOINTS", "STEAD_ENDPOINTS"]

_READ = Access("run", "READ")
_EDIT = Access("run", "EDIT")
_MANAGE = Access("run", "MANAGE")


def _param(pair: tuple[str, Any]) -> tuple[str, str]:
    """MLflow's server truncates over-long param values (MLFLOW_TRUNCATE_LONG_VALUES)."""
    key, value = pair
    text = value if isinstance(value, str) else str(value)
    return key, text[: v.MAX_PARAM_VAL_LENGTH]


def _tag(pair: tuple[str, Any]) -> tuple[str, str]:
    key, value = pair
    text = value if isinstance(value, str) else str(value)
    return key, text[: v.MAX_TAG_VAL_LENGTH]


def _run_id(call: ApiCall) -> str:
    return req_str(call.params, "run_id", "run_uuid")


def create(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    tags = dict(_tag(t) for t in tags_of(p))
    start_time = opt_int(p, "start_time")
    parent = tags.get("mlflow.parentRunId") or None
    user_id = opt_str(p, "user_id") or (call.user.username if call.user else "")
    kwargs = {"user_id": user_id, "start_time": start_time, "tags": tags, "run_name": opt_str(p, "run_name"),
              "environment_hash": opt_str(p, "stead_environment_hash") or None}
    experiment_id = opt_str(p, "experiment_id") or "0"
    try:
        run = ctx.backend.create_run(experiment_id, parent_run_id=parent, **kwargs)  # type: ignore[arg-type]
    except (NotFound, InvalidParameter):
        if parent is None:
            raise
        # MLflow keeps a parent tag that names no run; stead then records no parent link.
        run = ctx.backend.create_run(experiment_id, **kwargs)  # type: ignore[arg-type]
    return {"run": run_json(run)}


def get(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    return {"run": run_json(ctx.backend.get_run(_run_id(call)))}


def update(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    info = ctx.backend.update_run(
        _run_id(call),
        status=run_status_of(p.get("status")),
        end_time=opt_int(p, "end_time"),
        run_name=opt_str(p, "run_name") or None,
    )
    return {"run_info": run_info_json(info)}


def delete(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    ctx.backend.delete_run(_run_id(call))
    return {}


def restore(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    ctx.backend.restore_run(_run_id(call))
    return {}


def _metric(item: Any, run_id_ok: bool = True) -> Metric:
    if not isinstance(item, dict):
        raise InvalidParameter(f"Invalid metric {item!r}: expected an object with key, value, timestamp, step")
    key = req_str(item, "key")
    value = parse_double(item.get("value"), "value")
    timestamp = opt_int(item, "timestamp")
    if timestamp is None:
        raise InvalidParameter("Missing value for required parameter 'timestamp'. See the API docs for more "
                               "information about request parameters.")
    return Metric(key, value, timestamp, opt_int(item, "step") or 0)


def log_metric(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    ctx.backend.log_batch(_run_id(call), metric_points=[_metric(call.params)])
    return {}


def log_param(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    key = req_str(p, "key")
    value = p.get("value")
    if value is None:
        raise InvalidParameter("Missing value for required parameter 'value'. See the API docs for more "
                               "information about request parameters.")
    ctx.backend.log_batch(_run_id(call), param_items=[_param((key, value))])
    return {}


def set_tag(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    key = req_str(p, "key")
    value = p.get("value")
    if value is None:
        raise InvalidParameter("Missing value for required parameter 'value'. See the API docs for more "
                               "information about request parameters.")
    ctx.backend.log_batch(_run_id(call), tag_items=[_tag((key, value))])
    return {}


def delete_tag(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    ctx.backend.delete_tag(_run_id(call), req_str(call.params, "key"))
    return {}


def log_batch(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    run_id = _run_id(call)
    metrics = [_metric(m) for m in opt_list(p, "metrics")]
    params = [_param(x) for x in tags_of(p, "params")]
    tags = [_tag(x) for x in tags_of(p, "tags")]
    v.check_batch_sizes(len(metrics), len(params), len(tags))
    ctx.backend.log_batch(run_id, metric_points=metrics, param_items=params, tag_items=tags)
    return {}


def log_inputs(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    inputs = []
    for item in opt_list(call.params, "datasets"):
        if not isinstance(item, dict) or not isinstance(item.get("dataset"), dict):
            raise InvalidParameter(f"Invalid dataset input {item!r}: expected {{'dataset': {{...}}, 'tags': [...]}}")
        d = item["dataset"]
        context = dict(tags_of(item)).get("mlflow.data.context", "")
        inputs.append(
            RunInput(
                name=req_str(d, "name"),
                digest=req_str(d, "digest"),
                source_type=opt_str(d, "source_type") or "",
                source=opt_str(d, "source") or "",
                schema=opt_str(d, "schema"),
                profile=opt_str(d, "profile"),
                context=context,
            )
        )
    ctx.backend.log_inputs(_run_id(call), inputs)
    return {}


def search(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    max_results = opt_int(p, "max_results")
    page = ctx.backend.search_runs(
        [str(e) for e in opt_list(p, "experiment_ids")],
        opt_str(p, "filter") or None,
        view_type_of(p, "run_view_type"),
        1000 if max_results is None else max_results,
        [str(o) for o in opt_list(p, "order_by")],
        opt_str(p, "page_token") or None,
    )
    out: dict[str, Any] = {}
    if page.items:
        out["runs"] = [run_json(r) for r in page.items]
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


def get_history(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    max_results = opt_int(p, "max_results")
    if max_results is not None and max_results <= 0:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a positive integer."
        )
    page = ctx.backend.get_metric_history(
        _run_id(call), req_str(p, "metric_key"), max_results, opt_str(p, "page_token") or None
    )
    out: dict[str, Any] = {}
    if page.items:
        out["metrics"] = [metric_json(m) for m in page.items]
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


def get_history_bulk_interval(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    """Up to ``max_results`` points per run, evenly spaced over the steps (UI charts)."""
    p = call.params
    run_ids = [str(r) for r in opt_list(p, "run_ids")]
    if not run_ids:
        raise InvalidParameter("GetMetricHistoryBulkInterval request must specify at least one run_id.")
    if len(run_ids) > 100:
        raise InvalidParameter("GetMetricHistoryBulkInterval request cannot specify more than 100 run_ids.")
    key = req_str(p, "metric_key")
    start, end = opt_int(p, "start_step"), opt_int(p, "end_step")
    max_results = opt_int(p, "max_results") or 320
    if not 1 <= max_results <= 1000:
        raise InvalidParameter(f"max_results must be between 1 and 1000, got {max_results}")
    out: list[dict[str, Any]] = []
    for run_id in run_ids:
        points = [
            m for m in ctx.backend.get_metric_history(run_id, key).items
            if (start is None or m.step >= start) and (end is None or m.step <= end)
        ]
        steps = sorted({m.step for m in points})
        if len(steps) > max_results:
            stride = (len(steps) - 1) / (max_results - 1) if max_results > 1 else len(steps)
            keep = {steps[round(i * stride)] for i in range(max_results)} | {steps[-1]}
            points = [m for m in points if m.step in keep]
        out.extend({**metric_json(m), "run_id": run_id} for m in points)
    return {"metrics": out} if out else {}


def list_artifacts(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    from stead.server.routes_artifacts import list_run_artifacts

    return list_run_artifacts(ctx, _run_id(call), opt_str(call.params, "path") or "")


def save_environment(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    env_hash = req_str(p, "hash")
    if len(env_hash) > 64:
        raise InvalidParameter("Environment hash is longer than 64 characters")
    ctx.backend.save_environment(env_hash, req_str(p, "python"), opt_str(p, "packages") or "")
    return {}


# stead-only, mounted under /api/stead/v1.
STEAD_ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/environments", save_environment, AUTHENTICATED,
             "Record a Python environment (interpreter and packages) that runs refer to",
             request_fields=("hash", "python", "packages")),
]

ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/mlflow/runs/create", create, Access("experiment", "EDIT"), "Create a run",
             request_fields=("experiment_id", "user_id", "run_name", "start_time", "tags"), response_fields=("run",)),
    Endpoint("GET", "/mlflow/runs/get", get, _READ, "Get a run", request_fields=("run_id",), response_fields=("run",)),
    Endpoint("POST", "/mlflow/runs/update", update, _EDIT, "Update a run's status, end time or name",
             request_fields=("run_id", "status", "end_time", "run_name"), response_fields=("run_info",)),
    Endpoint("POST", "/mlflow/runs/delete", delete, _MANAGE, "Delete a run", request_fields=("run_id",)),
    Endpoint("POST", "/mlflow/runs/restore", restore, _MANAGE, "Restore a deleted run", request_fields=("run_id",)),
    Endpoint("POST", "/mlflow/runs/search", search, Access("experiment", "READ", field="experiment_ids"),
             "Search runs", request_fields=("experiment_ids", "filter", "run_view_type", "max_results", "order_by",
                                            "page_token"), response_fields=("runs", "next_page_token")),
    Endpoint("POST", "/mlflow/runs/log-metric", log_metric, _EDIT, "Log one metric point",
             request_fields=("run_id", "key", "value", "timestamp", "step")),
    Endpoint("POST", "/mlflow/runs/log-parameter", log_param, _EDIT, "Log a param",
             request_fields=("run_id", "key", "value")),
    Endpoint("POST", "/mlflow/runs/log-batch", log_batch, _EDIT, "Log metrics, params and tags at once",
             request_fields=("run_id", "metrics", "params", "tags")),
    Endpoint("POST", "/mlflow/runs/set-tag", set_tag, _EDIT, "Set a run tag", request_fields=("run_id", "key", "value")),
    Endpoint("POST", "/mlflow/runs/delete-tag", delete_tag, _EDIT, "Delete a run tag",
             request_fields=("run_id", "key")),
    Endpoint("POST", "/mlflow/runs/log-inputs", log_inputs, _EDIT, "Log dataset inputs of a run",
             request_fields=("run_id", "datasets")),
    Endpoint("GET", "/mlflow/metrics/get-history", get_history, _READ, "A metric's history, paged",
             request_fields=("run_id", "metric_key", "max_results", "page_token"),
             response_fields=("metrics", "next_page_token")),
    Endpoint("GET", "/mlflow/metrics/get-history-bulk-interval", get_history_bulk_interval,
             Access("run", "READ", field="run_ids"), "Sampled metric histories of several runs",
             request_fields=("run_ids", "metric_key", "start_step", "end_step", "max_results"),
             response_fields=("metrics",)),
    Endpoint("GET", "/mlflow/artifacts/list", list_artifacts, _READ, "List a run's artifacts",
             request_fields=("run_id", "path", "page_token"), response_fields=("root_uri", "files", "next_page_token")),
]

"""MLflow 3 logged models over HTTP: the endpoints ``mlflow.<flavor>.log_model`` calls.

What a logged model is and where its files live is ``stead.tracking.logged_models``; the
client uploads and downloads those files through the artifact proxy. Access follows the
model's experiment (``Access("logged_model", ...)``); remote clients resolve ``models:/m-<id>``
through ``GET /mlflow/logged-models/{model_id}``.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from stead.errors import InvalidParameter, NotFound
from stead.server.context import ServerContext
from stead.server.endpoint import Access, ApiCall, Endpoint
from stead.tracking import validation as v
from stead.tracking.logged_models import STATUSES, artifact_location_for, experiment_of_model, not_found
from stead.tracking.tables import logged_model_outputs, logged_model_params, logged_model_tags, logged_models
from stead.wire.fields import opt_int, opt_list, opt_str, req_str, tags_of

__all__ = ["ENDPOINTS", "RUN_ENDPOINTS"]

_STATUS_NUMBER = {v: k for k, v in STATUSES.items()}
_BAD_NAME_CHARS = ("/", ":", ".", "%", '"', "'")
_MAX_RESULTS_DEFAULT = 100
_MAX_RESULTS_LIMIT = 1000
_T = logged_models
_ADJECTIVES = ("able", "bold", "brave", "calm", "clever", "eager", "fair", "gentle", "keen", "lively", "merry",
               "neat", "proud", "quick", "quiet", "sharp", "smart", "swift", "tidy", "witty")
_NOUNS = ("ant", "bass", "bear", "crane", "deer", "eagle", "finch", "fox", "hare", "hawk", "lark", "lynx",
          "mole", "owl", "seal", "shrew", "stag", "swan", "toad", "wren")


def _now() -> int:
    return int(time.time() * 1000)


def _random_name() -> str:
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000)}"


# ---- JSON ------------------------------------------------------------------------------

def _model_json(conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
    ids = [r.model_id for r in rows]
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    if ids:
        for t in conn.execute(select(logged_model_tags).where(logged_model_tags.c.model_id.in_(ids))):
            tags[t.model_id][t.key] = t.value
        for p in conn.execute(select(logged_model_params).where(logged_model_params.c.model_id.in_(ids))):
            params[p.model_id][p.key] = p.value
    out = []
    for r in rows:
        info: dict[str, Any] = {
            "model_id": r.model_id,
            "experiment_id": str(r.experiment_id),
            "name": r.name,
            "creation_timestamp_ms": r.creation_timestamp_ms,
            "last_updated_timestamp_ms": r.last_updated_timestamp_ms,
            "artifact_uri": r.artifact_location,
            "status": STATUSES.get(r.status, STATUSES[0]),
        }
        if r.model_type:
            info["model_type"] = r.model_type
        if r.source_run_id:
            info["source_run_id"] = r.source_run_id
        if r.status_message:
            info["status_message"] = r.status_message
        if tags[r.model_id]:
            info["tags"] = [{"key": k, "value": v} for k, v in sorted(tags[r.model_id].items())]
        data: dict[str, Any] = {}
        if params[r.model_id]:
            data["params"] = [{"key": k, "value": v} for k, v in sorted(params[r.model_id].items())]
        out.append({"info": info, "data": data})
    return out


def _row(conn: Connection, model_id: str, *, allow_deleted: bool = False) -> Any:
    query = select(_T).where(_T.c.model_id == model_id)
    if not allow_deleted:
        query = query.where(_T.c.lifecycle_stage == "active")
    row = conn.execute(query).first()
    if row is None:
        raise not_found(model_id)
    return row


def _get_json(ctx: ServerContext, model_id: str, *, allow_deleted: bool = False) -> dict[str, Any]:
    with ctx.store.read() as conn:
        return {"model": _model_json(conn, [_row(conn, model_id, allow_deleted=allow_deleted)])[0]}


def _pairs(params: dict[str, Any], name: str) -> dict[str, str]:
    """Tags or params of a request, values cut at the run limits (8,000 and 6,000
    characters), as the server cuts a run's: what a search compares stays bounded."""
    limit = v.MAX_TAG_VAL_LENGTH if name == "tags" else v.MAX_PARAM_VAL_LENGTH
    out: dict[str, str] = {}
    for key, value in tags_of(params, name):
        if not isinstance(key, str) or not key:
            raise InvalidParameter(f"Invalid {name} key {key!r}: expected a non-empty string")
        if len(key) > 250:
            raise InvalidParameter(f"{name} key {key[:40]!r}... is longer than 250 characters")
        out[key] = (value if isinstance(value, str) else str(value))[:limit]
    return out


def _set_pairs(conn: Connection, table: Any, model_id: str, pairs: dict[str, str]) -> None:
    if not pairs:
        return
    conn.execute(delete(table).where(table.c.model_id == model_id, table.c.key.in_(list(pairs))))
    conn.execute(insert(table), [{"model_id": model_id, "key": k, "value": v} for k, v in pairs.items()])


def _model_id(call: ApiCall) -> str:
    return str(call.path_params.get("model_id") or req_str(call.params, "model_id"))


def _status_of(value: Any) -> int:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, bool):
        value = None
    if isinstance(value, int) and value in STATUSES:
        return value
    if isinstance(value, str):
        if value in _STATUS_NUMBER:
            return _STATUS_NUMBER[value]
        if value.isdigit() and int(value) in STATUSES:
            return int(value)
    raise InvalidParameter(f"Invalid value {value!r} for parameter 'status' supplied: expected one of "
                           + ", ".join(STATUSES.values()))


# ---- handlers ----------------------------------------------------------------------------

def create(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    experiment_id = req_str(p, "experiment_id")
    name = opt_str(p, "name")
    if name is not None and (not name or any(c in name for c in _BAD_NAME_CHARS)):
        raise InvalidParameter(f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
                               f"and cannot contain the following characters: {_BAD_NAME_CHARS}")
    experiment = ctx.backend.get_experiment(experiment_id)
    if experiment.lifecycle_stage != "active":
        raise InvalidParameter(f"The experiment {experiment_id} must be in the 'active' state. "
                               f"Current state is {experiment.lifecycle_stage}.")
    model_id = f"m-{uuid.uuid4().hex}"
    location = artifact_location_for(experiment.artifact_location, model_id)
    tags, params = _pairs(p, "tags"), _pairs(p, "params")
    now = _now()
    source_run_id = opt_str(p, "source_run_id") or None
    if source_run_id is not None:
        from stead.server.auth import require_runs

        # A version registered from this model copies its run's metrics: READ on that run.
        require_runs(ctx, call.user, "READ", [source_run_id])
    with ctx.store.write() as conn:
        conn.execute(insert(_T).values(
            model_id=model_id, experiment_id=int(experiment.experiment_id), name=name or _random_name(),
            artifact_location=location, creation_timestamp_ms=now, last_updated_timestamp_ms=now,
            status=1, status_message=None, lifecycle_stage="active", model_type=opt_str(p, "model_type") or None,
            source_run_id=source_run_id, creator=getattr(call.user, "username", None),
        ))
        _set_pairs(conn, logged_model_tags, model_id, tags)
        _set_pairs(conn, logged_model_params, model_id, params)
        return {"model": _model_json(conn, [_row(conn, model_id)])[0]}


def get(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    allow = str(call.params.get("allow_deleted") or "").lower() == "true"
    return _get_json(ctx, _model_id(call), allow_deleted=allow)


def finalize(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    model_id = _model_id(call)
    status = _status_of(call.params.get("status"))
    with ctx.store.write() as conn:
        _row(conn, model_id)
        conn.execute(update(_T).where(_T.c.model_id == model_id).values(status=status, last_updated_timestamp_ms=_now()))
        return {"model": _model_json(conn, [_row(conn, model_id)])[0]}


def delete_model(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    model_id = _model_id(call)
    with ctx.store.write() as conn:
        _row(conn, model_id, allow_deleted=True)
        conn.execute(update(_T).where(_T.c.model_id == model_id).values(
            lifecycle_stage="deleted", last_updated_timestamp_ms=_now()))
    return {}


def set_tags(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    model_id = _model_id(call)
    tags = _pairs(call.params, "tags")
    with ctx.store.write() as conn:
        _row(conn, model_id)
        _set_pairs(conn, logged_model_tags, model_id, tags)
    return {}


def delete_tag(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    model_id = _model_id(call)
    key = str(call.path_params.get("tag_key") or req_str(call.params, "tag_key"))
    with ctx.store.write() as conn:
        _row(conn, model_id)
        gone = conn.execute(delete(logged_model_tags).where(
            logged_model_tags.c.model_id == model_id, logged_model_tags.c.key == key)).rowcount
    if not gone:
        raise NotFound(f"No tag with key {key!r} found for model with ID {model_id!r}.")
    return {}


def log_params(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    model_id = _model_id(call)
    params = _pairs(call.params, "params")
    with ctx.store.write() as conn:
        _row(conn, model_id)
        _set_pairs(conn, logged_model_params, model_id, params)
    return {}


# ---- search --------------------------------------------------------------------------------

def search(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    from stead.server.logged_model_search import search_statement
    from stead.tracking.paging import decode_offset_token, encode_offset_token

    p = call.params
    experiment_ids = [str(e) for e in opt_list(p, "experiment_ids")]
    if not experiment_ids:
        raise InvalidParameter("Missing value for required parameter 'experiment_ids'.")
    max_results = opt_int(p, "max_results") or _MAX_RESULTS_DEFAULT
    if not 0 < max_results <= _MAX_RESULTS_LIMIT:
        raise InvalidParameter(f"Invalid value {max_results} for parameter 'max_results': it must be at most "
                               f"{_MAX_RESULTS_LIMIT}")
    try:
        ids = [int(e) for e in experiment_ids]
    except ValueError:
        raise InvalidParameter(f"Invalid experiment ids {experiment_ids!r}") from None
    offset = decode_offset_token(opt_str(p, "page_token"))
    stmt = search_statement(ids, opt_str(p, "filter"), opt_list(p, "order_by"))
    with ctx.store.read() as conn:
        rows = list(conn.execute(stmt.offset(offset).limit(max_results + 1)))
        page = rows[:max_results]
        out: dict[str, Any] = {"models": _model_json(conn, page)} if page else {}
    if len(rows) > max_results:
        out["next_page_token"] = encode_offset_token(offset + max_results)
    return out


# ---- run outputs --------------------------------------------------------------------------

def log_outputs(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    run_id = req_str(p, "run_id", "run_uuid")
    ctx.backend.get_run(run_id)
    items = []
    for m in opt_list(p, "models"):
        if not isinstance(m, dict):
            raise InvalidParameter(f"Invalid model output {m!r}: expected {{'model_id': ..., 'step': ...}}")
        items.append((req_str(m, "model_id"), opt_int(m, "step") or 0))
    from stead.server.auth import require_experiments

    # Linking a run to a logged model shows the model on the run: READ on the model's experiment.
    require_experiments(ctx, call.user, "READ",
                        [("Logged model", m, experiment_of_model(ctx.store, m)) for m, _ in items])
    with ctx.store.write() as conn:
        for model_id, step in items:
            _row(conn, model_id)
            conn.execute(delete(logged_model_outputs).where(
                logged_model_outputs.c.run_uuid == run_id, logged_model_outputs.c.model_id == model_id))
            conn.execute(insert(logged_model_outputs).values(run_uuid=run_id, model_id=model_id, step=step))
    return {}


_READ = Access("logged_model", "READ")
_EDIT = Access("logged_model", "EDIT")
_MANAGE = Access("logged_model", "MANAGE")
_ONE = "/mlflow/logged-models/{model_id}"

# Mounted under /api/2.0 and /ajax-api/2.0, where the MLflow client calls them.
ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/mlflow/logged-models", create, Access("experiment", "EDIT"), "Create a logged model (MLflow 3)",
             request_fields=("experiment_id", "name", "model_type", "source_run_id", "params", "tags"),
             response_fields=("model",)),
    Endpoint("POST", "/mlflow/logged-models/search", search, Access("experiment", "READ", field="experiment_ids"),
             "Search logged models of experiments",
             request_fields=("experiment_ids", "filter", "max_results", "order_by", "page_token"),
             response_fields=("models", "next_page_token")),
    Endpoint("GET", _ONE, get, _READ, "Get a logged model", request_fields=("allow_deleted",),
             response_fields=("model",)),
    Endpoint("PATCH", _ONE, finalize, _EDIT, "Set a logged model's final status",
             request_fields=("status",), response_fields=("model",)),
    Endpoint("DELETE", _ONE, delete_model, _MANAGE, "Delete a logged model"),
    Endpoint("PATCH", _ONE + "/tags", set_tags, _EDIT, "Set tags on a logged model", request_fields=("tags",)),
    Endpoint("DELETE", _ONE + "/tags/{tag_key:path}", delete_tag, _EDIT, "Delete a tag of a logged model"),
    Endpoint("POST", _ONE + "/params", log_params, _EDIT, "Log params of a logged model",
             request_fields=("params",)),
]

RUN_ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/mlflow/runs/outputs", log_outputs, Access("run", "EDIT"),
             "Record the logged models a run produced", request_fields=("run_id", "models")),
]

"""MLflow experiment endpoints: create, get, get-by-name, search, update, delete, restore, tags."""

from __future__ import annotations

import os
from typing import Any

from stead.errors import InvalidParameter, NotFound
from stead.server.context import ServerContext
from stead.server.endpoint import AUTHENTICATED, Access, ApiCall, Endpoint
from stead.server.mlflow_json import experiment_json, opt_int, opt_list, opt_str, req_str, tags_of, view_type_of

__all__ = ["ENDPOINTS", "check_artifact_location"]

_READ = Access("experiment", "READ")
_EDIT = Access("experiment", "EDIT")
_MANAGE = Access("experiment", "MANAGE")
_REMOTE_SCHEMES = ("mlflow-artifacts:", "s3://", "gs://", "wasbs://", "abfss://", "hdfs://", "oss://")


def check_artifact_location(ctx: ServerContext, location: str) -> str:
    """Refuse a location that would make the server (or its clients) touch the server's own
    files outside the artifact root: ``file:`` URIs, local paths, traversal, odd characters."""
    if any(ord(c) < 32 for c in location) or "\\" in location:
        raise InvalidParameter(f"Invalid artifact_location {location!r}: control characters or backslashes")
    lowered = location.lower()
    if lowered.startswith(_REMOTE_SCHEMES):
        rest = location.split(":", 1)[1]
        if any(seg == ".." for seg in rest.split("/")) or "%2e" in lowered or "%2f" in lowered:
            raise InvalidParameter(f"Invalid artifact_location {location!r}: it contains '..' or encoded parts")
        return location
    root = getattr(ctx.artifacts, "root", None)
    path = location[len("file://"):] if lowered.startswith("file://") else location
    if root is not None and path.startswith("/") and "%" not in path:
        real = os.path.realpath(path)
        real_root = os.path.realpath(root)
        if real.startswith(real_root.rstrip("/") + "/"):
            return location
    raise InvalidParameter(
        f"Invalid artifact_location {location!r}: a stead server keeps artifacts behind its proxy; leave "
        "artifact_location empty, or use an object-store URI (s3://...) or mlflow-artifacts:/..."
    )


def create(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    name = req_str(call.params, "name")
    location = opt_str(call.params, "artifact_location") or None
    if location:
        location = check_artifact_location(ctx, location)
    tags = dict(tags_of(call.params))
    experiment_id = ctx.backend.create_experiment(name, location, tags)
    if ctx.users is not None and call.user is not None and not call.user.is_admin:
        ctx.users.grant(call.user.username, experiment_id=experiment_id, level="MANAGE")
    return {"experiment_id": experiment_id}


def get(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    return {"experiment": experiment_json(ctx.backend.get_experiment(req_str(call.params, "experiment_id")))}


def get_by_name(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    name = req_str(call.params, "experiment_name")
    found = ctx.backend.get_experiment_by_name(name)
    if found is None:
        raise NotFound(f"Could not find experiment with name '{name}'")
    return {"experiment": experiment_json(found)}


def search(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    max_results = opt_int(p, "max_results")
    page = ctx.backend.search_experiments(
        view_type_of(p, "view_type"),
        1000 if max_results is None else max_results,
        opt_str(p, "filter") or None,
        [str(o) for o in opt_list(p, "order_by")],
        opt_str(p, "page_token") or None,
    )
    items = page.items
    user = call.user
    if ctx.users is not None and user is not None and not user.is_admin:
        # Only experiments the user may read (the page may come back shorter).
        levels = ctx.users.experiment_levels(user, [e.experiment_id for e in items])
        items = [e for e in items if levels.get(e.experiment_id, 0) >= 1]
    out: dict[str, Any] = {}
    if items:
        out["experiments"] = [experiment_json(e) for e in items]
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


def update(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    experiment_id = req_str(call.params, "experiment_id")
    new_name = opt_str(call.params, "new_name")
    if new_name:
        ctx.backend.rename_experiment(experiment_id, new_name)
    else:
        ctx.backend.get_experiment(experiment_id)
    return {}


def delete(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    ctx.backend.delete_experiment(req_str(call.params, "experiment_id"))
    return {}


def restore(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    ctx.backend.restore_experiment(req_str(call.params, "experiment_id"))
    return {}


def set_tag(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    value = p.get("value", "")
    ctx.backend.set_experiment_tag(req_str(p, "experiment_id"), req_str(p, "key"), "" if value is None else value)
    return {}


_SEARCH_FIELDS = ("max_results", "page_token", "filter", "order_by", "view_type")

ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/mlflow/experiments/create", create, AUTHENTICATED, "Create an experiment",
             request_fields=("name", "artifact_location", "tags"), response_fields=("experiment_id",)),
    Endpoint("GET", "/mlflow/experiments/get", get, _READ, "Get an experiment by id",
             request_fields=("experiment_id",), response_fields=("experiment",)),
    Endpoint("GET", "/mlflow/experiments/get-by-name", get_by_name, Access("experiment_name", "READ"),
             "Get an experiment by name", request_fields=("experiment_name",), response_fields=("experiment",)),
    Endpoint("POST", "/mlflow/experiments/search", search, AUTHENTICATED, "Search experiments",
             request_fields=_SEARCH_FIELDS, response_fields=("experiments", "next_page_token")),
    Endpoint("GET", "/mlflow/experiments/search", search, AUTHENTICATED, "Search experiments",
             request_fields=_SEARCH_FIELDS, response_fields=("experiments", "next_page_token")),
    Endpoint("POST", "/mlflow/experiments/update", update, _EDIT, "Rename an experiment",
             request_fields=("experiment_id", "new_name")),
    Endpoint("POST", "/mlflow/experiments/delete", delete, _MANAGE, "Delete an experiment (and its runs)",
             request_fields=("experiment_id",)),
    Endpoint("POST", "/mlflow/experiments/restore", restore, _MANAGE, "Restore a deleted experiment",
             request_fields=("experiment_id",)),
    Endpoint("POST", "/mlflow/experiments/set-experiment-tag", set_tag, _EDIT, "Set a tag on an experiment",
             request_fields=("experiment_id", "key", "value")),
]

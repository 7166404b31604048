"""MLflow experiment endpoints: create, get, get-by-name, search, update, delete, restore, tags.

A search returns only the experiments the caller may read (``visibility``), filtered in SQL
before paging; a new experiment's ``artifact_location`` is checked by ``locations``."""

from __future__ import annotations

from typing import Any

from stead.errors import NotFound
from stead.server.context import ServerContext
from stead.server.endpoint import AUTHENTICATED, Access, ApiCall, Endpoint
from stead.server.locations import check_artifact_location
from stead.server.visibility import readable_experiments
from stead.wire.fields import opt_int, opt_list, opt_str, req_str, tags_of, view_type_of
from stead.wire.tracking_json import experiment_json

__all__ = ["ENDPOINTS"]

_READ = Access("experiment", "READ")
_EDIT = Access("experiment", "EDIT")
_MANAGE = Access("experiment", "MANAGE")


def create(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    name = req_str(call.params, "name")
    location = opt_str(call.params, "artifact_location") or None
    if location:
        location = check_artifact_location(ctx, location, call.user)
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
    from stead.store.tables import experiments

    p = call.params
    max_results = opt_int(p, "max_results")
    page = ctx.backend.search_experiments(
        view_type_of(p, "view_type"),
        1000 if max_results is None else max_results,
        opt_str(p, "filter") or None,
        [str(o) for o in opt_list(p, "order_by")],
        opt_str(p, "page_token") or None,
        where=readable_experiments(ctx, call.user, experiments.c.experiment_id),
    )
    out: dict[str, Any] = {}
    if page.items:
        out["experiments"] = [experiment_json(e) for e in page.items]
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

"""MLflow model-registry endpoints: registered models, model versions, aliases, stages.

Thin adapters over ``stead.registry.service.Registry``: read the request fields, call the
service, answer MLflow's JSON shapes. Searches return only the models the caller may read
(``visibility``, filtered in SQL before paging); creating a version needs READ on whatever
its source and run id name (a run, another model's version, a logged model, an artifact
path), since the version copies their files, metrics, git commit and signature. A
version's ``source`` is checked by the service (``stead.registry.sources``): nothing
outside the artifact store is accepted. Two stead-only endpoints (alias history,
rollback) live under ``/stead/registered-models/``.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from stead.errors import InvalidParameter, NotFound, PermissionDenied
from stead.registry.service import Registry
from stead.server.context import ServerContext
from stead.server.endpoint import AUTHENTICATED, Access, ApiCall, Endpoint
from stead.server.visibility import readable_models
from stead.wire.fields import opt_int, opt_list, opt_str, req_str, tags_of
from stead.wire.registry_json import alias_event_json, model_version_json, registered_model_json

__all__ = ["ENDPOINTS", "registry_of"]

_READ = Access("registered_model", "READ")
_EDIT = Access("registered_model", "EDIT")
_MANAGE = Access("registered_model", "MANAGE")
_REGISTRIES: "WeakKeyDictionary[Any, Registry]" = WeakKeyDictionary()


def _meta_reader(ctx: ServerContext):  # type: ignore[no-untyped-def]
    from stead.registry.mlmodel_meta import read_model_meta
    from stead.registry.sources import relative_to_root

    def read(location: str) -> tuple[list[str], dict[str, Any] | None]:
        if location.startswith("mlflow-artifacts:/"):
            path: str | None = location[len("mlflow-artifacts:/"):].strip("/")
        else:
            path = relative_to_root(location, ctx.artifacts.root_uri)
        return read_model_meta(ctx.artifacts, path) if path is not None else ([], None)

    return read


def registry_of(ctx: ServerContext) -> Registry:
    """The registry service of this server (one per store)."""
    found = _REGISTRIES.get(ctx.store)
    if found is None:
        found = Registry(ctx.store, ctx.artifacts.root_uri, read_meta=_meta_reader(ctx))
        _REGISTRIES[ctx.store] = found
    return found


def _user(call: ApiCall) -> str:
    return str(getattr(call.user, "username", "") or "")


def _bool(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: expected a boolean")


def _search_args(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "filter_string": opt_str(p, "filter"),
        "max_results": opt_int(p, "max_results"),
        "order_by": [str(o) for o in opt_list(p, "order_by")] or None,
        "page_token": opt_str(p, "page_token") or None,
    }


# ---- registered models ---------------------------------------------------------------

def create_model(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    rm = registry_of(ctx).create_registered_model(req_str(p, "name"), dict(tags_of(p)), opt_str(p, "description"))
    if ctx.users is not None and call.user is not None and not call.user.is_admin:
        ctx.users.grant(call.user.username, registered_model=rm.name, level="MANAGE")
    return {"registered_model": registered_model_json(rm)}


def get_model(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    return {"registered_model": registered_model_json(registry_of(ctx).get_registered_model(req_str(call.params, "name")))}


def _move_permissions(ctx: ServerContext, old: str, new: str | None) -> None:
    """Per-model permissions are keyed by name: they follow a rename and go with a delete."""
    from sqlalchemy import delete, update

    from stead.server.tables import registered_model_permissions as perms

    with ctx.store.write() as conn:
        if new is None:
            conn.execute(delete(perms).where(perms.c.name == old))
        else:
            conn.execute(update(perms).where(perms.c.name == old).values(name=new))


def rename_model(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    registry = registry_of(ctx)
    old = registry.get_registered_model(req_str(p, "name")).name
    rm = registry.rename_registered_model(old, req_str(p, "new_name"))
    _move_permissions(ctx, old, rm.name)
    return {"registered_model": registered_model_json(rm)}


def update_model(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    rm = registry_of(ctx).update_registered_model(req_str(p, "name"), opt_str(p, "description"))
    return {"registered_model": registered_model_json(rm)}


def delete_model(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    registry = registry_of(ctx)
    name = registry.get_registered_model(req_str(call.params, "name")).name
    registry.delete_registered_model(name, user_id=_user(call))
    _move_permissions(ctx, name, None)
    return {}


def search_models(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    from stead.registry.tables import registered_models

    where = readable_models(ctx, call.user, registered_models.c.name)
    page = registry_of(ctx).search_registered_models(**_search_args(call.params), where=where)
    out: dict[str, Any] = {"registered_models": [registered_model_json(m) for m in page.items]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


def set_model_tag(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    registry_of(ctx).set_registered_model_tag(req_str(p, "name"), req_str(p, "key"), p.get("value") or "")
    return {}


def delete_model_tag(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    registry_of(ctx).delete_registered_model_tag(req_str(p, "name"), req_str(p, "key"))
    return {}


def latest_versions(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    versions = registry_of(ctx).get_latest_versions(req_str(p, "name"), [str(s) for s in opt_list(p, "stages")])
    return {"model_versions": [model_version_json(v) for v in versions]}


# ---- aliases -------------------------------------------------------------------------

def set_alias(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    registry_of(ctx).set_registered_model_alias(req_str(p, "name"), req_str(p, "alias"), req_str(p, "version"),
                                                user_id=_user(call), reason=opt_str(p, "reason") or "")
    return {}


def delete_alias(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    registry_of(ctx).delete_registered_model_alias(req_str(p, "name"), req_str(p, "alias"), user_id=_user(call),
                                                   reason=opt_str(p, "reason") or "")
    return {}


def get_alias(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    return {"model_version": model_version_json(registry_of(ctx).get_model_version_by_alias(req_str(p, "name"),
                                                                                          req_str(p, "alias")))}


def alias_history(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    events = registry_of(ctx).alias_history(req_str(p, "name"), opt_str(p, "alias") or None)
    return {"events": [alias_event_json(e) for e in events]}


def rollback(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    mv = registry_of(ctx).rollback_alias(req_str(p, "name"), req_str(p, "alias"), user_id=_user(call),
                                         reason=opt_str(p, "reason") or "")
    return {"model_version": model_version_json(mv)}


# ---- model versions ------------------------------------------------------------------

def _logged_model(ctx: ServerContext, model_id: str) -> Any:
    """The logged model row (MLflow 3 sources ``models:/m-<id>``), or ``NotFound``."""
    from sqlalchemy import select

    from stead.tracking.tables import logged_models

    with ctx.store.read() as conn:
        row = conn.execute(select(logged_models).where(logged_models.c.model_id == model_id,
                                                       logged_models.c.lifecycle_stage == "active")).first()
    if row is None:
        raise NotFound(f"Logged model with ID '{model_id}' not found.")
    return row


def _source_path(ctx: ServerContext, source: str) -> str | None:
    """The path inside the artifact store that an artifact ``source`` names (None: outside,
    which the registry's source check refuses)."""
    from urllib.parse import unquote, urlsplit

    from stead.artifacts.paths import normalize_artifact_path
    from stead.registry.sources import relative_to_root

    if source.startswith("mlflow-artifacts:"):
        parts = urlsplit(source)
        return None if parts.netloc else normalize_artifact_path(unquote(parts.path).lstrip("/"))
    return relative_to_root(source, ctx.artifacts.root_uri)


def _require_source_read(ctx: ServerContext, call: ApiCall, source: str, model_experiment: str | None) -> None:
    """A version copies what its source and run hold (files, metrics, git commit,
    signature): the caller needs READ on whatever ``source`` names."""
    from stead.registry.sources import parse_runs_uri
    from stead.registry.uris import logged_model_id_of, parse_model_uri
    from stead.server.auth import experiment_of_artifact_path, require_experiments, require_model, require_runs
    from stead.server.visibility import sees_everything

    if sees_everything(ctx, call.user):
        return
    model_id = logged_model_id_of(source)
    if model_id is not None:
        require_experiments(ctx, call.user, "READ", [("Logged model", model_id, model_experiment)])
    elif source.startswith("models:"):
        require_model(ctx, call.user, "READ", parse_model_uri(source).name)
    elif source.startswith("runs:"):
        require_runs(ctx, call.user, "READ", [parse_runs_uri(source)[0]])
    else:
        path = _source_path(ctx, source)
        if path is None:
            return  # outside the artifact store: the registry refuses it
        exp = experiment_of_artifact_path(path)
        if exp is None:
            raise PermissionDenied("Only admins may register a model version from outside an experiment's "
                                   "artifact folder")
        require_experiments(ctx, call.user, "READ", [("Artifact path", source, exp)])


def create_version(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    from stead.registry.uris import logged_model_id_of
    from stead.server.auth import require_runs

    p = call.params
    source = req_str(p, "source")
    run_id = opt_str(p, "run_id") or None
    model_id = opt_str(p, "model_id") or None
    source_model = logged_model_id_of(source)
    model_experiment = None
    if source_model is not None:
        if model_id != source_model:
            raise InvalidParameter(f"Invalid model version source: '{source}'. The model_id request parameter "
                                   "must identify the resource that contains the source.")
        from stead.tracking.logged_models import experiment_of_model

        model_experiment = experiment_of_model(ctx.store, source_model)
    _require_source_read(ctx, call, source, model_experiment)
    require_runs(ctx, call.user, "READ", [run_id] if run_id else [])
    if source_model is not None:
        # MLflow 3 registers a logged model by ``models:/m-<id>``; like MLflow, the version
        # takes its run from the model when the request names none (and that run is read too).
        row = _logged_model(ctx, source_model)
        if run_id is None and row.source_run_id:
            run_id = row.source_run_id
            require_runs(ctx, call.user, "READ", [run_id])
    mv = registry_of(ctx).create_model_version(
        req_str(p, "name"), source, run_id, dict(tags_of(p)),
        opt_str(p, "run_link"), opt_str(p, "description"), user_id=_user(call),
        logged_model_id=model_id,
    )
    return {"model_version": model_version_json(mv)}


def get_version(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    return {"model_version": model_version_json(registry_of(ctx).get_model_version(req_str(p, "name"),
                                                                                 req_str(p, "version")))}


def update_version(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    mv = registry_of(ctx).update_model_version(req_str(p, "name"), req_str(p, "version"), opt_str(p, "description"))
    return {"model_version": model_version_json(mv)}


def delete_version(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    registry_of(ctx).delete_model_version(req_str(p, "name"), req_str(p, "version"), user_id=_user(call))
    return {}


def search_versions(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    from stead.registry.tables import registered_models

    where = readable_models(ctx, call.user, registered_models.c.name)
    page = registry_of(ctx).search_model_versions(**_search_args(call.params), where=where)
    out: dict[str, Any] = {"model_versions": [model_version_json(v) for v in page.items]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


def download_uri(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    from stead.registry.uris import logged_model_id_of

    p = call.params
    location = registry_of(ctx).get_model_version_download_uri(req_str(p, "name"), req_str(p, "version"))
    model_id = logged_model_id_of(location)
    if model_id is not None:  # the files of an MLflow 3 version are its logged model's
        location = str(_logged_model(ctx, model_id).artifact_location)
    return {"artifact_uri": location}


def set_version_tag(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    registry_of(ctx).set_model_version_tag(req_str(p, "name"), req_str(p, "version"), req_str(p, "key"),
                                           p.get("value") or "")
    return {}


def delete_version_tag(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    registry_of(ctx).delete_model_version_tag(req_str(p, "name"), req_str(p, "version"), req_str(p, "key"))
    return {}


def transition_stage(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    p = call.params
    mv = registry_of(ctx).transition_model_version_stage(
        req_str(p, "name"), req_str(p, "version"), req_str(p, "stage"), _bool(p, "archive_existing_versions"))
    return {"model_version": model_version_json(mv)}


_RM = "/mlflow/registered-models"
_MV = "/mlflow/model-versions"
_SEARCH = ("filter", "max_results", "order_by", "page_token")

ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", f"{_RM}/create", create_model, AUTHENTICATED, "Create a registered model",
             request_fields=("name", "tags", "description"), response_fields=("registered_model",)),
    Endpoint("GET", f"{_RM}/get", get_model, _READ, "Get a registered model",
             request_fields=("name",), response_fields=("registered_model",)),
    Endpoint("POST", f"{_RM}/rename", rename_model, _MANAGE, "Rename a registered model",
             request_fields=("name", "new_name"), response_fields=("registered_model",)),
    Endpoint("PATCH", f"{_RM}/update", update_model, _EDIT, "Update a registered model's description",
             request_fields=("name", "description"), response_fields=("registered_model",)),
    Endpoint("DELETE", f"{_RM}/delete", delete_model, _MANAGE, "Delete a registered model and its versions",
             request_fields=("name",)),
    Endpoint("GET", f"{_RM}/search", search_models, AUTHENTICATED, "Search registered models",
             request_fields=_SEARCH, response_fields=("registered_models", "next_page_token")),
    Endpoint("POST", f"{_RM}/set-tag", set_model_tag, _EDIT, "Set a tag on a registered model",
             request_fields=("name", "key", "value")),
    Endpoint("DELETE", f"{_RM}/delete-tag", delete_model_tag, _EDIT, "Delete a tag of a registered model",
             request_fields=("name", "key")),
    Endpoint("POST", f"{_RM}/get-latest-versions", latest_versions, _READ, "Newest version per stage",
             request_fields=("name", "stages"), response_fields=("model_versions",)),
    Endpoint("GET", f"{_RM}/get-latest-versions", latest_versions, _READ, "Newest version per stage",
             request_fields=("name", "stages"), response_fields=("model_versions",)),
    Endpoint("POST", f"{_RM}/alias", set_alias, _EDIT, "Point an alias at a version (recorded in the audit log)",
             request_fields=("name", "alias", "version", "reason")),
    Endpoint("DELETE", f"{_RM}/alias", delete_alias, _MANAGE, "Delete an alias (recorded in the audit log)",
             request_fields=("name", "alias", "reason")),
    Endpoint("GET", f"{_RM}/alias", get_alias, _READ, "The version an alias points to",
             request_fields=("name", "alias"), response_fields=("model_version",)),
    Endpoint("POST", f"{_MV}/create", create_version, _EDIT, "Register a new model version",
             request_fields=("name", "source", "run_id", "tags", "run_link", "description", "model_id"),
             response_fields=("model_version",)),
    Endpoint("GET", f"{_MV}/get", get_version, _READ, "Get a model version",
             request_fields=("name", "version"), response_fields=("model_version",)),
    Endpoint("PATCH", f"{_MV}/update", update_version, _EDIT, "Update a model version's description",
             request_fields=("name", "version", "description"), response_fields=("model_version",)),
    Endpoint("DELETE", f"{_MV}/delete", delete_version, _MANAGE, "Delete a model version",
             request_fields=("name", "version")),
    Endpoint("GET", f"{_MV}/search", search_versions, AUTHENTICATED, "Search model versions",
             request_fields=_SEARCH, response_fields=("model_versions", "next_page_token")),
    Endpoint("GET", f"{_MV}/get-download-uri", download_uri, _READ, "Where a version's files are",
             request_fields=("name", "version"), response_fields=("artifact_uri",)),
    Endpoint("POST", f"{_MV}/set-tag", set_version_tag, _EDIT, "Set a tag on a model version",
             request_fields=("name", "version", "key", "value")),
    Endpoint("DELETE", f"{_MV}/delete-tag", delete_version_tag, _MANAGE, "Delete a tag of a model version",
             request_fields=("name", "version", "key")),
    Endpoint("POST", f"{_MV}/transition-stage", transition_stage, _EDIT, "Move a version to a legacy stage",
             request_fields=("name", "version", "stage", "archive_existing_versions"),
             response_fields=("model_version",)),
    Endpoint("GET", "/stead/registered-models/alias-history", alias_history, _READ,
             "The audit log of a model's aliases (stead)", request_fields=("name", "alias"),
             response_fields=("events",)),
    Endpoint("POST", "/stead/registered-models/rollback", rollback, _EDIT,
             "Move an alias back to its previous version (stead)", request_fields=("name", "alias", "reason"),
             response_fields=("model_version",)),
]

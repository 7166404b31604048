"""Pages of the model registry: the models list, a model (versions, aliases, the alias audit
log), a version (card, signature, lineage), and the set-alias / roll-back forms.

Everything goes through the registry service and the API's permission rules: the list uses
``visibility.readable_models`` in its SQL, each page's route carries the API's ``Access``
(READ on the model; EDIT to move an alias or roll one back, as the API's own routes), and the
forms are rendered only for users who hold EDIT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from stead.errors import InvalidParameter, NotFound
from stead.server.auth import require_runs
from stead.server.routes_registry import registry_of
from stead.server.users import LEVELS
from stead.server.visibility import readable_models, sees_everything
from stead.tracking.paging import encode_offset_token
from stead.ui.page import View
from stead.ui.web import Response, UiRequest, redirect, url_with

if TYPE_CHECKING:
    from stead.registry.records import ModelVersion
    from stead.server.context import ServerContext
    from stead.server.endpoint import ApiCall

__all__ = ["models_page", "model_page", "version_page", "set_alias", "rollback_alias"]

_MODELS_PER_PAGE = 50


def model_path(name: str) -> str:
    return "/models/" + quote(name, safe="")


def _can_edit(ctx: "ServerContext", call: "ApiCall", name: str) -> bool:
    if sees_everything(ctx, call.user):
        return True
    assert ctx.users is not None and call.user is not None
    return ctx.users.registered_model_level(call.user, name) >= LEVELS["EDIT"]


def _page_no(req: UiRequest) -> int:
    text = req.first("page", "1")
    return max(1, int(text)) if text.isdigit() else 1


def models_page(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> View:
    from stead.registry.tables import registered_models

    filter_text = req.first("filter").strip()
    page_no = _page_no(req)
    error, items, more = "", [], False
    try:
        found = registry_of(ctx).search_registered_models(
            filter_text or None, _MODELS_PER_PAGE, ["name ASC"],
            encode_offset_token((page_no - 1) * _MODELS_PER_PAGE) if page_no > 1 else None,
            where=readable_models(ctx, call.user, registered_models.c.name))
        items, more = list(found.items), found.next_page_token is not None
    except InvalidParameter as exc:
        error = exc.message
    rows = [{"name": m.name, "path": model_path(m.name), "last_updated_timestamp": m.last_updated_timestamp,
             "latest_versions": [{"version": v.version, "current_stage": v.current_stage} for v in m.latest_versions],
             "aliases": dict(sorted(m.aliases.items()))} for m in items]

    def link(page: int) -> str:
        return url_with("/models", [("filter", filter_text), ("page", "" if page == 1 else str(page))])

    data = {"models": rows, "filter": filter_text, "page": page_no, "error": error,
            "next": link(page_no + 1) if more else None, "previous": link(page_no - 1) if page_no > 1 else None}
    return View("models.html", data, 400 if error else 200)


def _run_link(ctx: "ServerContext", call: "ApiCall", run_id: str | None) -> str | None:
    """The run page of ``run_id``, when the run exists and the user may read it."""
    if not run_id:
        return None
    try:
        require_runs(ctx, call.user, "READ", [run_id])
        run = ctx.backend.get_run(run_id)
    except (NotFound, InvalidParameter):
        return None
    return f"/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"


def _version_row(ctx: "ServerContext", call: "ApiCall", v: "ModelVersion") -> dict[str, Any]:
    return {"version": v.version, "status": v.status, "current_stage": v.current_stage, "run_id": v.run_id,
            "run_page": _run_link(ctx, call, v.run_id), "aliases": list(v.aliases), "user_id": v.user_id,
            "creation_timestamp": v.creation_timestamp, "path": f"{model_path(v.name)}/versions/{v.version}"}


def model_page(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> View:
    registry = registry_of(ctx)
    model = registry.get_registered_model(call.path_params["name"])
    versions = sorted(registry.list_versions(model.name), key=lambda v: v.version, reverse=True)
    history = [{"alias": e.alias, "action": e.action, "from_version": e.from_version, "to_version": e.to_version,
                "user_id": e.user_id, "reason": e.reason, "timestamp": e.timestamp}
               for e in reversed(registry.alias_history(model.name))]
    data = {"model": {"name": model.name, "description": model.description, "tags": model.tags,
                      "aliases": dict(sorted(model.aliases.items())),
                      "last_updated_timestamp": model.last_updated_timestamp},
            "versions": [_version_row(ctx, call, v) for v in versions], "alias_history": history}
    extra = {"can_edit": _can_edit(ctx, call, model.name), "base": model_path(model.name)}
    return View("model.html", data, extra=extra)


def version_page(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> View:
    from stead.registry.card import render_card

    registry = registry_of(ctx)
    model = registry.get_registered_model(call.path_params["name"])
    version = registry.get_model_version(model.name, call.path_params["version"])
    run_page = _run_link(ctx, call, version.run_id)
    run = ctx.backend.get_run(version.run_id) if run_page is not None and version.run_id else None
    inputs = [{"name": i.name, "digest": i.digest, "context": i.context, "source": i.source, "uri": i.uri}
              for i in run.inputs] if run is not None else []
    data = {"model": {"name": model.name}, "version": _version_row(ctx, call, version),
            "source": version.source, "description": version.description, "signature": version.signature,
            "card": render_card(model, version, run),
            "lineage": {"run_id": version.run_id, "run_page": run_page, "inputs": inputs}}
    return View("version.html", data, extra={"base": model_path(model.name)})


def _reason(req: UiRequest) -> str:
    return req.form.get("reason", "").strip()[:1000]


def set_alias(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> Response:
    registry = registry_of(ctx)
    name = registry.get_registered_model(call.path_params["name"]).name
    user = str(getattr(call.user, "username", "") or "")
    registry.set_registered_model_alias(name, req.form.get("alias", "").strip(), req.form.get("version", "").strip(),
                                        user_id=user, reason=_reason(req))
    return redirect(model_path(name))


def rollback_alias(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> Response:
    registry = registry_of(ctx)
    name = registry.get_registered_model(call.path_params["name"]).name
    user = str(getattr(call.user, "username", "") or "")
    registry.rollback_alias(name, req.form.get("alias", "").strip(), user_id=user, reason=_reason(req))
    return redirect(model_path(name))

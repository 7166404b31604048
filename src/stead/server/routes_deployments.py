"""Deployments as the stead server lists them, under ``/api/stead/v1/deployments``.

Read-only: deployments are created and moved with ``stead deploy`` (or the Python API),
and every model server follows the store. A deployment names registered models (and their
versions and aliases), so on ``--auth`` a caller sees one only with READ on every model its
variants name (``stead.server.visibility``); a get of any other answers as for a deployment
that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stead.errors import NotFound
from stead.server.endpoint import AUTHENTICATED, ApiCall, Endpoint

if TYPE_CHECKING:
    from stead.server.context import ServerContext
    from stead.serving.deployments import Deployment

__all__ = ["ENDPOINTS"]


def _deployments(ctx: "ServerContext") -> Any:
    from stead.serving.deployments import Deployments

    return Deployments(ctx.store)


def _model_names(dep: "Deployment") -> set[str]:
    from stead.registry.client import split_name_ref

    return {split_name_ref(v.model)[0].strip() for v in dep.variants}


def _visible(ctx: "ServerContext", call: ApiCall, deps: "list[Deployment]") -> "list[Deployment]":
    """The deployments whose every model ``call.user`` may READ, in one query."""
    from sqlalchemy import select

    from stead.registry.tables import registered_models as rm
    from stead.server.visibility import readable_models, sees_everything

    if sees_everything(ctx, call.user) or not deps:
        return deps
    names = set().union(*(_model_names(d) for d in deps))
    query = select(rm.c.name).where(rm.c.name.in_(sorted(names)), *readable_models(ctx, call.user, rm.c.name))
    with ctx.store.read() as conn:
        readable = set(conn.execute(query).scalars())
    return [d for d in deps if _model_names(d) <= readable]


def list_deployments(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    return {"deployments": [d.to_dict() for d in _visible(ctx, call, _deployments(ctx).list())]}


def get_deployment(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    from stead.server.visibility import hidden, sees_everything

    name = str(call.path_params["name"])
    if sees_everything(ctx, call.user):
        return {"deployment": _deployments(ctx).get(name).to_dict()}
    try:
        dep = _deployments(ctx).get(name)
    except NotFound:
        dep = None
    if dep is None or not _visible(ctx, call, [dep]):
        raise hidden("Deployment", name, call.user)  # the same words whether it exists or not
    return {"deployment": dep.to_dict()}


ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/deployments", list_deployments, AUTHENTICATED,
             "List the deployments whose models the caller may read, with their variants",
             response_fields=("deployments",)),
    Endpoint("GET", "/deployments/{name}", get_deployment, AUTHENTICATED,
             "Get one deployment: variants, models, traffic weights", response_fields=("deployment",)),
]

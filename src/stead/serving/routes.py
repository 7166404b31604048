"""Deployments as the stead server lists them, under ``/api/stead/v1/deployments``.

Read-only: deployments are created and moved with ``stead deploy`` (or the Python API),
and every model server follows the store. Any logged-in user may list them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stead.server.endpoint import AUTHENTICATED, ApiCall, Endpoint

if TYPE_CHECKING:
    from stead.server.context import ServerContext

__all__ = ["ENDPOINTS"]


def _deployments(ctx: "ServerContext") -> Any:
    from stead.serving.deployments import Deployments

    return Deployments(ctx.store)


def list_deployments(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    return {"deployments": [d.to_dict() for d in _deployments(ctx).list()]}


def get_deployment(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    return {"deployment": _deployments(ctx).get(str(call.path_params["name"])).to_dict()}


ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/deployments", list_deployments, AUTHENTICATED, "List deployments and their variants",
             response_fields=("deployments",)),
    Endpoint("GET", "/deployments/{name}", get_deployment, AUTHENTICATED,
             "Get one deployment: variants, models, traffic weights", response_fields=("deployment",)),
]

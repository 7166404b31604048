"""Monitoring endpoints under ``/api/stead/v1/``:

    POST /api/stead/v1/deployments/{name}/labels   {"labels": {request_id: label, ...}}
                                                   or {"labels": [{"request_id": ..., "label": ...}, ...]}
                                                   -> {"deployment", "received", "matched", "unknown",
                                                       "rows", "unknown_ids", "path"}

Labels change what a deployment's models are measured by, so on ``--auth`` the caller needs
EDIT on every registered model the deployment's variants name; one without READ on any of
them is told the deployment does not exist (``stead.server.visibility.hidden``), as a get is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, NotFound
from stead.server.endpoint import AUTHENTICATED, ApiCall, Endpoint

if TYPE_CHECKING:
    from stead.server.context import ServerContext

__all__ = ["ENDPOINTS"]


def post_labels(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    from stead.monitoring.labels import labels_from_records, write_labels

    name = str(call.path_params["name"])
    _require_edit(ctx, call, name)
    labels = call.params.get("labels")
    if isinstance(labels, list):
        labels = labels_from_records(labels)
    if not isinstance(labels, dict):
        raise InvalidParameter('The body must be {"labels": {request_id: label, ...}} or '
                               '{"labels": [{"request_id": ..., "label": ...}, ...]}')
    return write_labels(ctx.store, ctx.artifacts, name, labels).to_json()


def _require_edit(ctx: "ServerContext", call: ApiCall, name: str) -> None:
    """EDIT on each model of deployment ``name``; ``hidden`` when the caller may read none."""
    from stead.registry.client import split_name_ref
    from stead.server.auth import require_model
    from stead.server.visibility import hidden, sees_everything
    from stead.serving.deployments import Deployments

    if sees_everything(ctx, call.user):
        return
    try:
        dep = Deployments(ctx.store).get(name)
    except NotFound:
        raise hidden("Deployment", name, call.user) from None
    models = sorted({split_name_ref(v.model)[0].strip() for v in dep.variants})
    try:
        for model in models:
            require_model(ctx, call.user, "READ", model)
    except NotFound:
        raise hidden("Deployment", name, call.user) from None  # the same words whether it exists or not
    for model in models:
        require_model(ctx, call.user, "EDIT", model)


ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/deployments/{name}/labels", post_labels, AUTHENTICATED,
             "Log labels for a deployment's predictions by request id; unknown ids are counted, not refused",
             request_fields=("labels",),
             response_fields=("deployment", "received", "matched", "unknown", "rows", "unknown_ids", "path")),
]

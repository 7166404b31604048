"""The canary judge over HTTP, under ``/api/stead/v1/``:

    GET /api/stead/v1/deployments/{name}/analysis[?window_s=300]
        -> {"deployment", "primary", "candidate", "pass", "verdict", "score", "reason",
            "window", "rollout", "variants", "analysis"}

The verdict on the deployment's canary now (``stead.monitoring.rollout.analysis_now``): the
rollout's candidate since its last decision, or the first other live variant over the last
``window_s`` seconds. ``pass`` is a top-level boolean and ``verdict`` pass/fail/inconclusive,
so an Argo Rollouts web metric (``successCondition: result.pass == true``) or a Flagger
webhook gate can use it as it is. On ``--auth`` the caller needs READ on every registered
model the deployment's variants name; any other caller is told it does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, NotFound
from stead.server.endpoint import AUTHENTICATED, ApiCall, Endpoint

if TYPE_CHECKING:
    from stead.server.context import ServerContext

__all__ = ["ENDPOINTS"]


def get_analysis(ctx: "ServerContext", call: ApiCall) -> dict[str, Any]:
    from stead.monitoring.rollout import analysis_now
    from stead.serving.deployments import Deployments

    name = str(call.path_params["name"])
    _require_read(ctx, call, name)
    raw = call.params.get("window_s", 300)
    try:
        window = float(raw)
    except (TypeError, ValueError):
        window = float("nan")
    if not window > 0:
        raise InvalidParameter(f"window_s must be a positive number of seconds, got {raw!r}")
    return analysis_now(Deployments(ctx.store), ctx.artifacts, name, window_s=window)


def _require_read(ctx: "ServerContext", call: ApiCall, name: str) -> None:
    """READ on each model of deployment ``name``; ``hidden`` otherwise, as for one that does not exist."""
    from stead.registry.client import split_name_ref
    from stead.server.auth import require_model
    from stead.server.visibility import hidden, sees_everything
    from stead.serving.deployments import Deployments

    if sees_everything(ctx, call.user):
        return
    try:
        dep = Deployments(ctx.store).get(name)
        for model in sorted({split_name_ref(v.model)[0].strip() for v in dep.variants}):
            require_model(ctx, call.user, "READ", model)
    except NotFound:
        raise hidden("Deployment", name, call.user) from None  # the same words whether it exists or not


ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/deployments/{name}/analysis", get_analysis, AUTHENTICATED,
             "The canary judge's verdict on a deployment's candidate now (pass: a boolean for Argo Rollouts "
             "and Flagger)", request_fields=("window_s",),
             response_fields=("deployment", "primary", "candidate", "pass", "verdict", "score", "reason", "window",
                              "rollout", "variants", "analysis")),
]

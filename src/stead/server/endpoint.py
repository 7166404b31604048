"""Route tables as data: each concept lists its endpoints, ``create_app`` assembles them.

An ``Endpoint`` names its method, path (after the API prefix), handler and access rule.
Every endpoint must carry an ``Access``: there is no default, so a route without a rule
cannot be built (deny by default; a test walks every route to check).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from stead.server.context import ServerContext
    from stead.server.users import User

__all__ = ["Access", "Endpoint", "ApiCall", "PUBLIC", "AUTHENTICATED", "ADMIN"]

Level = Literal["READ", "EDIT", "MANAGE"]
Resource = Literal[
    "public", "authenticated", "admin", "experiment", "experiment_name", "run", "registered_model", "artifact",
    "logged_model",
]


@dataclass(frozen=True)
class Access:
    """Who may call an endpoint.

    ``resource`` says what the permission is checked on: ``experiment`` (the request's
    ``experiment_id``), ``run`` (its ``run_id``, through the run's experiment), ``artifact``
    (the experiment named by the first segment of the artifact path), ``logged_model`` (the
    experiment of the MLflow 3 logged model in the path's ``model_id``), ``registered_model``
    (its ``name``); ``public`` needs no login, ``authenticated`` any user, ``admin`` an admin.
    """

    resource: Resource
    level: Level | None = None
    field: str | None = None  # the request field naming the resource, when not the usual one


PUBLIC = Access("public")
AUTHENTICATED = Access("authenticated")
ADMIN = Access("admin")


@dataclass
class ApiCall:
    """One decoded request: its fields (query or JSON body), path parameters and user."""

    params: dict[str, Any]
    path_params: dict[str, Any] = field(default_factory=dict)
    user: "User | None" = None


JsonHandler = Callable[["ServerContext", ApiCall], dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    """A JSON endpoint (``handler`` returns a dict) or, with ``raw``, an ASGI-level one
    (``handler(ctx, scope, receive, send, call)``, used for streaming artifacts)."""

    method: str
    path: str
    handler: Callable[..., Any]
    access: Access
    summary: str
    raw: bool = False
    request_fields: tuple[str, ...] = ()
    response_fields: tuple[str, ...] = ()

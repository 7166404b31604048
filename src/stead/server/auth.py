"""Authentication (HTTP basic and bearer, as the MLflow client sends them) and the access
check every endpoint goes through.

Deny by default: with auth on, only ``PUBLIC`` endpoints answer anonymous calls (401
otherwise); admins may do everything; other users need a permission on the experiment
(or registered model) the request names, at the endpoint's level (403 otherwise).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy import select

from stead.errors import InvalidParameter, NotFound, PermissionDenied, Unauthenticated
from stead.server.context import ServerContext
from stead.server.endpoint import Access, ApiCall
from stead.server.limits import header
from stead.server.users import LEVELS, Credentials

__all__ = ["credentials_of", "authorize", "experiment_of_artifact_path"]


def credentials_of(scope: dict[str, Any]) -> Credentials | None:
    """The Basic (``user:password``) or Bearer credentials of the Authorization header, with
    the client's address (what failed logins are throttled by, beside the user name)."""
    value = header(scope, b"authorization")
    if not value:
        return None
    client = scope.get("client")
    address = str(client[0]) if client else None
    scheme, _, rest = value.decode("latin-1").partition(" ")
    scheme = scheme.lower()
    rest = rest.strip()
    if scheme == "bearer" and rest:
        return Credentials("bearer", rest, address)
    if scheme == "basic" and rest:
        try:
            return Credentials("basic", base64.b64decode(rest, validate=True).decode("utf-8"), address)
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("Malformed HTTP basic credentials") from None
    raise Unauthenticated("Unsupported Authorization scheme: use Basic or Bearer")


def experiment_of_artifact_path(path: str) -> str | None:
    """The experiment id an artifact path lives under (``<exp>/<run>/artifacts/...``)."""
    first = path.strip("/").split("/", 1)[0]
    return first if first.isdigit() else None


def _values(call: ApiCall, name: str) -> list[str]:
    value = call.path_params.get(name, call.params.get(name))
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items]


def _experiments_of_runs(ctx: ServerContext, run_ids: list[str]) -> list[str]:
    from stead.store.tables import runs

    with ctx.store.read() as conn:
        rows = dict(conn.execute(select(runs.c.run_uuid, runs.c.experiment_id).where(runs.c.run_uuid.in_(run_ids))).all())
    missing = [r for r in run_ids if r not in rows]
    if missing:
        raise NotFound(f"No run with id {missing[0]!r}")
    return [str(e) for e in rows.values()]


def _experiment_ids(ctx: ServerContext, access: Access, call: ApiCall) -> list[str]:
    if access.resource == "experiment":
        field = access.field or "experiment_id"
        ids = _values(call, field)
        if not ids and field == "experiment_ids":
            raise PermissionDenied("Name the experiments to search (experiment_ids)")
        if not ids:
            raise InvalidParameter(f"Missing value for required parameter '{field}'.")
        return ids
    if access.resource == "experiment_name":
        names = _values(call, access.field or "experiment_name")
        if not names:
            raise InvalidParameter("Missing value for required parameter 'experiment_name'.")
        found = ctx.backend.get_experiment_by_name(names[0])
        if found is None:
            raise PermissionDenied(f"Permission denied for experiment {names[0]!r}")
        return [found.experiment_id]
    if access.resource == "run":
        ids = _values(call, access.field or "run_id") or _values(call, "run_uuid")
        if not ids:
            raise InvalidParameter(f"Missing value for required parameter '{access.field or 'run_id'}'.")
        return _experiments_of_runs(ctx, ids)
    if access.resource == "logged_model":
        from stead.server.logged_models import experiment_of_model

        ids = _values(call, access.field or "model_id")
        if not ids:
            raise InvalidParameter("Missing value for required parameter 'model_id'.")
        exp = experiment_of_model(ctx.store, ids[0])
        if exp is None:  # an unknown model is refused, not reported: ids are not probed
            raise PermissionDenied(f"Permission denied for logged model {ids[0]!r}")
        return [exp]
    if access.resource == "artifact":
        path = str(call.path_params.get("artifact_path") or call.params.get("path") or "")
        exp = experiment_of_artifact_path(path)
        if exp is None:
            raise PermissionDenied("Only admins may reach artifacts outside an experiment's folder")
        return [exp]
    raise AssertionError(access.resource)


def authorize(ctx: ServerContext, access: Access, call: ApiCall) -> None:
    """Raise ``Unauthenticated`` / ``PermissionDenied`` unless ``call`` may use the endpoint."""
    if ctx.users is None or access.resource == "public":
        return
    user = call.user
    if user is None:
        raise Unauthenticated("Authentication required")
    if user.is_admin or access.resource == "authenticated":
        return
    if access.resource == "admin":
        raise PermissionDenied(f"User {user.username!r} is not an admin")
    need = LEVELS[access.level or "READ"]
    if access.resource == "registered_model":
        names = _values(call, access.field or "name")
        if not names or ctx.users.registered_model_level(user, names[0]) < need:
            raise PermissionDenied(
                f"User {user.username!r} lacks {access.level} permission on registered model "
                f"{names[0] if names else ''!r}"
            )
        return
    ids = _experiment_ids(ctx, access, call)
    levels = ctx.users.experiment_levels(user, ids)
    for eid in ids:
        if levels.get(eid, 0) < need:
            raise PermissionDenied(
                f"User {user.username!r} lacks {access.level} permission on experiment {eid}; "
                "ask an admin: stead users grant"
            )

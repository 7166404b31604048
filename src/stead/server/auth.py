"""Authentication (HTTP basic and bearer, as the MLflow client sends them) and the access
check every endpoint goes through.

Deny by default: with auth on, only ``PUBLIC`` endpoints answer anonymous calls (401
otherwise); admins may do everything; other users need a permission on the experiment
(or registered model) the request names, at the endpoint's level. Without any permission
the answer is the one for a missing resource (``visibility.hidden``, 404); with READ but
not the level needed, 403.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from stead.errors import InvalidParameter, PermissionDenied, Unauthenticated
from stead.server.context import ServerContext
from stead.server.endpoint import Access, ApiCall
from stead.server.limits import header
from stead.server.users import LEVELS, Credentials, User
from stead.server.visibility import hidden, sees_everything

__all__ = ["credentials_of", "authorize", "experiment_of_artifact_path", "require_experiments", "require_model",
           "require_runs", "experiments_of_runs"]


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


def _required(call: ApiCall, field: str, *alternatives: str) -> list[str]:
    for name in (field, *alternatives):
        found = _values(call, name)
        if found:
            return found
    raise InvalidParameter(f"Missing value for required parameter '{field}'.")


def experiments_of_runs(ctx: ServerContext, run_ids: list[str]) -> dict[str, str | None]:
    """Each run id's experiment id (None for a run that does not exist)."""
    from stead.store.tables import runs

    with ctx.store.read() as conn:
        rows = dict(conn.execute(select(runs.c.run_uuid, runs.c.experiment_id).where(runs.c.run_uuid.in_(run_ids))).all())
    return {r: (str(rows[r]) if r in rows else None) for r in run_ids}


def _named(ctx: ServerContext, access: Access, call: ApiCall) -> list[tuple[str, object, str | None]]:
    """What the request names, as (kind, as named, its experiment id or None if unknown)."""
    if access.resource == "experiment":
        field = access.field or "experiment_id"
        ids = _values(call, field)
        if not ids and field == "experiment_ids":
            raise PermissionDenied("Name the experiments to search (experiment_ids)")
        if not ids:
            raise InvalidParameter(f"Missing value for required parameter '{field}'.")
        return [("Experiment", e, e) for e in ids]
    if access.resource == "experiment_name":
        name = _required(call, access.field or "experiment_name")[0]
        found = ctx.backend.get_experiment_by_name(name)
        return [("Experiment named", name, found.experiment_id if found is not None else None)]
    if access.resource == "run":
        ids = _required(call, access.field or "run_id", "run_uuid")
        return [("Run", r, e) for r, e in experiments_of_runs(ctx, ids).items()]
    if access.resource == "logged_model":
        from stead.tracking.logged_models import experiment_of_model

        model_id = _required(call, access.field or "model_id")[0]
        return [("Logged model", model_id, experiment_of_model(ctx.store, model_id))]
    if access.resource == "artifact":
        path = str(call.path_params.get("artifact_path") or call.params.get("path") or "")
        exp = experiment_of_artifact_path(path)
        if exp is None:
            raise PermissionDenied("Only admins may reach artifacts outside an experiment's folder")
        return [("Artifact path", path, exp)]
    raise AssertionError(access.resource)


def require_experiments(ctx: ServerContext, user: User | None, level: str,
                        named: Sequence[tuple[str, object, str | None]]) -> None:
    """``user`` needs ``level`` on the experiment of each named thing; one it may not read
    (or that does not exist) is ``hidden``, one it may read but not change is a 403."""
    if sees_everything(ctx, user):
        return
    assert ctx.users is not None and user is not None
    known = [e for _, _, e in named if e is not None]
    levels = ctx.users.experiment_levels(user, known) if known else {}
    for kind, ident, eid in named:
        have = levels.get(eid, 0) if eid is not None else 0
        if have == 0:
            raise hidden(kind, ident, user)
        if have < LEVELS[level]:
            raise PermissionDenied(
                f"User {user.username!r} lacks {level} permission on experiment {eid}; "
                "ask an admin: stead users grant"
            )


def require_runs(ctx: ServerContext, user: User | None, level: str, run_ids: Sequence[str]) -> None:
    """``user`` needs ``level`` on the experiment of each run in ``run_ids`` (``hidden`` for
    one it may not read or that does not exist); no look-up for admins or without auth."""
    if run_ids and not sees_everything(ctx, user):
        require_experiments(ctx, user, level,
                            [("Run", r, e) for r, e in experiments_of_runs(ctx, sorted(set(run_ids))).items()])


def require_model(ctx: ServerContext, user: User | None, level: str, name: str) -> None:
    """``user`` needs ``level`` on registered model ``name`` (``hidden`` without any)."""
    if sees_everything(ctx, user):
        return
    from stead.registry.names import check_model_name

    assert ctx.users is not None and user is not None
    have = ctx.users.registered_model_level(user, check_model_name(name))  # permissions name the canonical form
    if have == 0:
        raise hidden("Registered model", name, user)
    if have < LEVELS[level]:
        raise PermissionDenied(f"User {user.username!r} lacks {level} permission on registered model {name!r}")


def authorize(ctx: ServerContext, access: Access, call: ApiCall) -> None:
    """Raise ``Unauthenticated`` / ``PermissionDenied`` / ``hidden`` unless ``call`` may use the endpoint."""
    if ctx.users is None or access.resource == "public":
        return
    user = call.user
    if user is None:
        raise Unauthenticated("Authentication required")
    if user.is_admin or access.resource == "authenticated":
        return
    if access.resource == "admin":
        raise PermissionDenied(f"User {user.username!r} is not an admin")
    level = access.level or "READ"
    if access.resource == "registered_model":
        require_model(ctx, user, level, _required(call, access.field or "name")[0])
        return
    require_experiments(ctx, user, level, _named(ctx, access, call))

"""What a user may see: the one permission filter of every listing, and the one answer for
what a user may not see.

A listing (experiment, registered-model and model-version search) takes the SQL conditions
of ``readable_experiments`` / ``readable_models`` into its own query, so the database drops
what the caller may not read *before* it pages: a page is full unless the matches run out,
and a page token counts only rows the caller may read, so it says nothing about the others.

``hidden(...)`` is what a user who has no permission on a resource is told, word for word
the same as for a resource that does not exist: no route answers "exists, but not yours".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, false, select

from stead.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from stead.server.context import ServerContext
    from stead.server.users import User

__all__ = ["sees_everything", "readable_experiments", "readable_models", "hidden"]

_ANY_LEVEL = ("READ", "EDIT", "MANAGE")


def sees_everything(ctx: "ServerContext", user: "User | None") -> bool:
    """True without auth and for admins: no filter applies."""
    return ctx.users is None or (user is not None and user.is_admin)


def readable_experiments(ctx: "ServerContext", user: "User | None", column: Any) -> "list[ColumnElement[bool]]":
    """Conditions keeping the rows whose experiment id (``column``) ``user`` may read; none
    when everything is readable. Without a user (anonymous, auth on) nothing is."""
    if sees_everything(ctx, user):
        return []
    from stead.server.tables import experiment_permissions as perms

    if user is None:
        return [false()]
    granted = select(perms.c.experiment_id).where(perms.c.user_id == user.id, perms.c.permission.in_(_ANY_LEVEL))
    return [cast(column, String).in_(granted)]


def readable_models(ctx: "ServerContext", user: "User | None", column: Any) -> "list[ColumnElement[bool]]":
    """Conditions keeping the rows whose registered model name (``column``) ``user`` may read."""
    if sees_everything(ctx, user):
        return []
    from stead.server.tables import registered_model_permissions as perms

    if user is None:
        return [false()]
    granted = select(perms.c.name).where(perms.c.user_id == user.id, perms.c.permission.in_(_ANY_LEVEL))
    return [column.in_(granted)]


def hidden(kind: str, ident: object, user: "User | None") -> NotFound:
    """The answer for a resource ``user`` may not read, and for one that does not exist."""
    who = f"user {user.username!r}" if user is not None else "you"
    return NotFound(
        f"{kind} {str(ident)[:300]!r} does not exist or {who} may not read it; "
        "ask its owner or an admin for READ permission (stead users grant)"
    )

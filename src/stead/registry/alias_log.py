"""The alias audit log: every move and removal of an alias, and how a rollback reads it.

An alias is moved only through ``move_alias`` (or removed beside a ``log_alias_event``), in
the caller's transaction, so the log and the pointer never disagree. ``rollback_target``
reads the log as a stack, without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from stead.registry.rows import now_ms
from stead.registry.tables import alias_events, registered_model_aliases

__all__ = ["log_alias_event", "current_alias", "move_alias", "rollback_target"]


def log_alias_event(conn: Connection, model: Row[Any], alias: str, action: str, old: int | None,
                    new: int | None, user_id: str, reason: str, now: int) -> None:
    """Append one event (``set``, ``delete`` or ``rollback``) of ``model@alias`` to the log."""
    conn.execute(insert(alias_events).values(
        model_id=model.id, name=model.name, alias=alias, action=action, from_version=old, to_version=new,
        user_id=user_id or "", reason=reason or "", timestamp=now))


def current_alias(conn: Connection, model_id: int, alias: str) -> int | None:
    """The version ``alias`` points to now, or None when it is not set."""
    a = registered_model_aliases.c
    return conn.execute(select(a.version).where(a.model_id == model_id, a.alias == alias)).scalar()


def move_alias(conn: Connection, model: Row[Any], alias: str, version: int, action: str,
               user_id: str, reason: str) -> None:
    """Point ``model@alias`` at ``version`` and log the move (``action``: set or rollback)."""
    old = current_alias(conn, model.id, alias)
    a = registered_model_aliases.c
    if old is None:
        conn.execute(insert(registered_model_aliases).values(model_id=model.id, alias=alias, version=version))
    else:
        conn.execute(update(registered_model_aliases).where(a.model_id == model.id, a.alias == alias)
                     .values(version=version))
    log_alias_event(conn, model, alias, action, old, version, user_id, reason, now_ms())


def rollback_target(events: Iterable[tuple[str, int | None]], current: int | None, live: set[int]) -> int | None:
    """The version a rollback moves to, from the alias's ``(action, from_version)`` events
    oldest first: a move pushes the version it left, a rollback pops it, so repeated
    rollbacks walk further back. Versions not in ``live`` (deleted since) and the current
    one are skipped; None when nothing earlier is left."""
    stack: list[int | None] = []
    for action, from_version in events:
        if action == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(from_version)
    while stack and (stack[-1] is None or stack[-1] not in live or stack[-1] == current):
        if stack[-1] is None:
            break
        stack.pop()
    if not stack or stack[-1] is None:
        return None
    return int(stack[-1])

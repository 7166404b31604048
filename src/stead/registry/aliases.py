"""Aliases of registered models: movable pointers (``production``, ``canary``) with an audit log.

``Aliases`` is one part of the ``Registry`` service (``stead.registry.service``). Every
move and removal is logged in the same transaction (``stead.registry.alias_log``), so a
rollback is moving the pointer back to where the log says it was.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from stead.errors import InvalidParameter
from stead.registry import names as n
from stead.registry.alias_log import current_alias, log_alias_event, move_alias, rollback_target
from stead.registry.records import AliasEvent, ModelVersion
from stead.registry.refs import latest_number
from stead.registry.rows import model_row, now_ms, version_records, version_row
from stead.registry.tables import alias_events, model_versions, registered_model_aliases
from stead.store import Store

__all__ = ["Aliases"]

_MV = model_versions


class Aliases:
    """Alias operations of the registry service."""

    store: Store

    def set_registered_model_alias(self, name: str, alias: str, version: Any, *, user_id: str = "",
                                   reason: str = "") -> None:
        """Point ``alias`` at ``version`` (an existing version), recording the move."""
        alias = n.check_alias(alias, for_set=True)
        with self.store.write() as conn:
            model = model_row(conn, name, lock=True)
            row = version_row(conn, model, version)
            move_alias(conn, model, alias, row.version, "set", user_id, reason)

    def delete_registered_model_alias(self, name: str, alias: str, *, user_id: str = "", reason: str = "") -> None:
        """Remove ``alias`` (a no-op when it is not set, as in MLflow); the removal is logged."""
        alias = n.check_alias(alias)
        with self.store.write() as conn:
            model = model_row(conn, name, lock=True)
            old = current_alias(conn, model.id, alias)
            if old is None:
                return
            a = registered_model_aliases.c
            conn.execute(delete(registered_model_aliases).where(a.model_id == model.id, a.alias == alias))
            log_alias_event(conn, model, alias, "delete", old, None, user_id, reason, now_ms())

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        alias = n.check_alias(alias)
        with self.store.read() as conn:
            model = model_row(conn, name)
            if alias.lower() == "latest":
                number = latest_number(conn, model)
            else:
                current = current_alias(conn, model.id, alias)
                if current is None:
                    raise InvalidParameter(f"Registered model alias {alias} not found.")
                number = current
            row = version_row(conn, model, number)
            return version_records(conn, [row], {model.id: model.name})[0]

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """The audit log of one model (one alias, when given), oldest first."""
        with self.store.read() as conn:
            model = model_row(conn, name)
            e = alias_events.c
            stmt = select(alias_events).where(e.model_id == model.id)
            if alias is not None:
                stmt = stmt.where(e.alias == n.check_alias(alias))
            rows = conn.execute(stmt.order_by(e.id)).all()
        return [AliasEvent(r.id, r.name, r.alias, r.action, r.from_version, r.to_version, r.user_id, r.reason,
                           r.timestamp) for r in rows]

    def rollback_alias(self, name: str, alias: str, *, user_id: str = "", reason: str = "") -> ModelVersion:
        """Move ``alias`` back to the version it pointed to before its last move
        (``alias_log.rollback_target`` says which). Versions deleted since are skipped."""
        alias = n.check_alias(alias)
        with self.store.write() as conn:
            model = model_row(conn, name, lock=True)
            e = alias_events.c
            events = conn.execute(select(e.action, e.from_version).where(e.model_id == model.id, e.alias == alias)
                                  .order_by(e.id)).all()
            live = {v for (v,) in conn.execute(select(_MV.c.version).where(
                _MV.c.model_id == model.id, _MV.c.deleted_time.is_(None)))}
            target = rollback_target([(ev.action, ev.from_version) for ev in events],
                                     current_alias(conn, model.id, alias), live)
            if target is None:
                raise InvalidParameter(
                    f"Alias {alias!r} of model {model.name!r} has no earlier version to roll back to; "
                    f"see `stead models alias history {model.name}@{alias}`"
                )
            move_alias(conn, model, alias, target, "rollback", user_id, reason)
            row = version_row(conn, model, target)
            return version_records(conn, [row], {model.id: model.name})[0]

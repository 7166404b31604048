"""Registered models in the metadata store: create, rename, describe, tag, search, delete.

``RegisteredModels`` is one part of the ``Registry`` service (``stead.registry.service``);
each method runs in one transaction of ``self.store``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from stead.errors import AlreadyExists
from stead.registry import names as n
from stead.registry.alias_log import log_alias_event
from stead.registry.records import RegisteredModel
from stead.registry.rows import check_max_results, model_records, model_row, now_ms, touch
from stead.registry.tables import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from stead.store import Store
from stead.tracking.paging import decode_offset_token, encode_offset_token
from stead.tracking.records import Page

__all__ = ["RegisteredModels", "SEARCH_MODELS_DEFAULT", "SEARCH_MODELS_MAX"]

SEARCH_MODELS_DEFAULT, SEARCH_MODELS_MAX = 100, 1000
_RM = registered_models


class RegisteredModels:
    """Registered-model operations of the registry service."""

    store: Store

    def create_registered_model(
        self, name: str, tags: Mapping[str, str] | None = None, description: str | None = None
    ) -> RegisteredModel:
        canonical = n.check_model_name(name)
        checked = dict(n.check_tag(k, v) for k, v in (tags or {}).items())
        text = n.check_description(description)
        now = now_ms()
        try:
            with self.store.write() as conn:
                taken = conn.execute(
                    select(_RM.c.name).where(_RM.c.name_key == n.name_key(canonical))
                ).first()
                if taken is not None:
                    same = "" if taken.name == canonical else f" (as {taken.name!r}, which looks the same)"
                    raise AlreadyExists(f"Registered Model (name={canonical}) already exists{same}.")
                inserted = conn.execute(
                    insert(_RM).values(name=canonical, name_key=n.name_key(canonical), description=text,
                                       creation_timestamp=now, last_updated_timestamp=now)
                ).inserted_primary_key
                assert inserted is not None  # an INSERT of one row always reports its key
                model_id = inserted[0]
                if checked:
                    conn.execute(insert(registered_model_tags),
                                 [{"model_id": model_id, "key": k, "value": v} for k, v in checked.items()])
        except IntegrityError:
            raise AlreadyExists(f"Registered Model (name={canonical}) already exists.") from None
        return self.get_registered_model(canonical)

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self.store.read() as conn:
            return model_records(conn, [model_row(conn, name)])[0]

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        target = n.check_model_name(new_name, "New name")
        try:
            with self.store.write() as conn:
                row = model_row(conn, name, lock=True)
                clash = conn.execute(
                    select(_RM.c.name).where(_RM.c.name_key == n.name_key(target), _RM.c.id != row.id)
                ).first()
                if clash is not None:
                    raise AlreadyExists(f"Registered Model (name={target}) already exists.")
                conn.execute(update(_RM).where(_RM.c.id == row.id).values(
                    name=target, name_key=n.name_key(target), last_updated_timestamp=now_ms()))
        except IntegrityError:
            raise AlreadyExists(f"Registered Model (name={target}) already exists.") from None
        return self.get_registered_model(target)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        text = n.check_description(description)
        with self.store.write() as conn:
            row = model_row(conn, name)
            conn.execute(update(_RM).where(_RM.c.id == row.id).values(description=text, last_updated_timestamp=now_ms()))
        return self.get_registered_model(row.name)

    def delete_registered_model(self, name: str, *, user_id: str = "") -> None:
        """Delete the model, its versions, tags and aliases; alias removals are logged."""
        with self.store.write() as conn:
            row = model_row(conn, name, lock=True)
            now = now_ms()
            for a in conn.execute(select(registered_model_aliases).where(registered_model_aliases.c.model_id == row.id)):
                log_alias_event(conn, row, a.alias, "delete", a.version, None, user_id, "registered model deleted", now)
            conn.execute(delete(registered_model_aliases).where(registered_model_aliases.c.model_id == row.id))
            conn.execute(delete(model_version_tags).where(model_version_tags.c.model_id == row.id))
            conn.execute(delete(model_versions).where(model_versions.c.model_id == row.id))
            conn.execute(delete(registered_model_tags).where(registered_model_tags.c.model_id == row.id))
            conn.execute(delete(_RM).where(_RM.c.id == row.id))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> Page[RegisteredModel]:
        """``where``: more conditions on ``registered_models`` (a server's permission
        filter), applied before paging so that pages stay full."""
        limit = check_max_results(max_results, SEARCH_MODELS_DEFAULT, SEARCH_MODELS_MAX)
        offset = decode_offset_token(page_token)
        from stead.registry.search import model_conditions, model_order  # lark: loaded on first search

        stmt = model_order(select(_RM).where(*model_conditions(filter_string), *where), order_by)
        with self.store.read() as conn:
            rows = conn.execute(stmt.offset(offset).limit(limit + 1)).all()
            items = model_records(conn, rows[:limit])
        return Page(items, encode_offset_token(offset + limit) if len(rows) > limit else None)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        key, value = n.check_tag(key, value)
        with self.store.write() as conn:
            row = model_row(conn, name)
            conn.execute(delete(registered_model_tags).where(
                registered_model_tags.c.model_id == row.id, registered_model_tags.c.key == key))
            conn.execute(insert(registered_model_tags).values(model_id=row.id, key=key, value=value))
            touch(conn, row.id, now_ms())

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        with self.store.write() as conn:
            row = model_row(conn, name)
            conn.execute(delete(registered_model_tags).where(
                registered_model_tags.c.model_id == row.id, registered_model_tags.c.key == key))

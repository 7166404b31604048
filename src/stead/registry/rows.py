"""Registry rows: finding a model's or a version's row and turning rows into records.

Every registry operation starts here, inside the transaction it runs in: ``model_row``
and ``version_row`` raise the one ``NotFound`` line a user sees, and ``model_records`` /
``version_records`` read the tags and aliases of many rows in one query each.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection, Row

from stead.errors import InvalidParameter, NotFound
from stead.registry import names as n
from stead.registry.records import ModelVersion, RegisteredModel
from stead.registry.tables import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)

__all__ = ["now_ms", "model_row", "version_row", "model_records", "version_records", "touch", "check_max_results"]

_RM = registered_models
_MV = model_versions


def now_ms() -> int:
    """The registry's timestamps: milliseconds since the epoch, as MLflow writes them."""
    return int(time.time() * 1000)


def check_max_results(value: int | None, default: int, limit: int) -> int:
    """A search's page size: ``default`` when not given, else between 1 and ``limit``."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > limit:
        raise InvalidParameter(f"Invalid value {value!r} for max_results: it must be between 1 and {limit}")
    return value


def model_row(conn: Connection, name: Any, *, lock: bool = False) -> Row[Any]:
    """The registered model called ``name`` (compared on its name key); ``lock`` for writers."""
    canonical = n.check_model_name(name)
    stmt = select(_RM).where(_RM.c.name_key == n.name_key(canonical))
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(f"Registered Model with name={canonical} not found")
    return row


def version_row(conn: Connection, model: Row[Any], version: Any) -> Row[Any]:
    """The live (not deleted) version ``version`` of ``model``."""
    number = n.check_version(version)
    row = conn.execute(
        select(_MV).where(_MV.c.model_id == model.id, _MV.c.version == number, _MV.c.deleted_time.is_(None))
    ).first()
    if row is None:
        raise NotFound(f"Model Version (name={model.name}, version={number}) not found")
    return row


def touch(conn: Connection, model_id: int, now: int) -> None:
    """Mark a registered model as updated at ``now``."""
    conn.execute(update(_RM).where(_RM.c.id == model_id).values(last_updated_timestamp=now))


def version_records(conn: Connection, rows: Sequence[Row[Any]], names: Mapping[int, str]) -> list[ModelVersion]:
    """``ModelVersion`` records of version rows; ``names``: model id -> model name."""
    if not rows:
        return []
    ids = {r.model_id for r in rows}
    tag_map: dict[tuple[int, int], dict[str, str]] = {}
    for t in conn.execute(select(model_version_tags).where(model_version_tags.c.model_id.in_(ids))):
        tag_map.setdefault((t.model_id, t.version), {})[t.key] = t.value
    alias_map: dict[tuple[int, int], list[str]] = {}
    for a in conn.execute(
        select(registered_model_aliases)
        .where(registered_model_aliases.c.model_id.in_(ids))
        .order_by(registered_model_aliases.c.alias)
    ):
        alias_map.setdefault((a.model_id, a.version), []).append(a.alias)
    return [
        ModelVersion(
            name=names[r.model_id],
            version=r.version,
            creation_timestamp=r.creation_timestamp,
            last_updated_timestamp=r.last_updated_timestamp,
            source=r.source,
            storage_location=r.storage_location,
            run_id=r.run_id,
            run_link=r.run_link,
            user_id=r.user_id,
            current_stage=r.current_stage,
            description=r.description,
            status=r.status,
            status_message=r.status_message,
            tags=tag_map.get((r.model_id, r.version), {}),
            aliases=tuple(alias_map.get((r.model_id, r.version), [])),
            logged_model_id=r.logged_model_id,
            signature=json.loads(r.signature) if r.signature else None,
            flavors=tuple(json.loads(r.flavors or "[]")),
            metrics=json.loads(r.metrics or "{}"),
            datasets=tuple(json.loads(r.datasets or "[]")),
            git_commit=r.git_commit,
        )
        for r in rows
    ]


def model_records(conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
    """``RegisteredModel`` records of model rows, with their tags, aliases and latest versions."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    names = {r.id: r.name for r in rows}
    tag_map: dict[int, dict[str, str]] = {}
    for t in conn.execute(select(registered_model_tags).where(registered_model_tags.c.model_id.in_(ids))):
        tag_map.setdefault(t.model_id, {})[t.key] = t.value
    alias_map: dict[int, dict[str, int]] = {}
    for a in conn.execute(
        select(registered_model_aliases)
        .where(registered_model_aliases.c.model_id.in_(ids))
        .order_by(registered_model_aliases.c.alias)
    ):
        alias_map.setdefault(a.model_id, {})[a.alias] = a.version
    # latest_versions: the newest version in each stage, as MLflow reports it
    newest = (
        select(_MV.c.model_id, _MV.c.current_stage, func.max(_MV.c.version).label("version"))
        .where(_MV.c.model_id.in_(ids), _MV.c.deleted_time.is_(None))
        .group_by(_MV.c.model_id, _MV.c.current_stage)
        .subquery()
    )
    latest_rows = conn.execute(
        select(_MV)
        .join(newest, and_(_MV.c.model_id == newest.c.model_id, _MV.c.version == newest.c.version))
        .order_by(_MV.c.version)
    ).all()
    latest: dict[int, list[ModelVersion]] = {}
    for mv, row in zip(version_records(conn, latest_rows, names), latest_rows):
        latest.setdefault(row.model_id, []).append(mv)
    return [
        RegisteredModel(
            name=r.name,
            creation_timestamp=r.creation_timestamp,
            last_updated_timestamp=r.last_updated_timestamp,
            description=r.description,
            tags=tag_map.get(r.id, {}),
            aliases=alias_map.get(r.id, {}),
            latest_versions=tuple(latest.get(r.id, [])),
        )
        for r in rows
    ]

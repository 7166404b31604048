"""Which version a reference names: a number, an alias, ``latest`` or a legacy stage.

Shared by ``Registry.resolve`` (``models:/churn@production``), by versions registered
from another version's URI, and by ``get_model_version_by_alias("latest")``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Row

from stead.errors import NotFound
from stead.registry import names as n
from stead.registry.alias_log import current_alias
from stead.registry.tables import model_versions
from stead.registry.uris import ModelRef

__all__ = ["latest_number", "pick_version"]

_MV = model_versions


def latest_number(conn: Connection, model: Row[Any]) -> int:
    """The highest live version number of ``model``."""
    number = conn.execute(select(func.max(_MV.c.version)).where(
        _MV.c.model_id == model.id, _MV.c.deleted_time.is_(None))).scalar()
    if number is None:
        raise NotFound(f"Latest version not found for model {model.name}.")
    return int(number)


def pick_version(conn: Connection, model: Row[Any], ref: ModelRef) -> int:
    """The version a parsed ``models:/`` URI names: a number, an alias, latest or a stage."""
    if ref.alias is not None:
        if ref.alias.lower() == "latest":
            return latest_number(conn, model)
        number = current_alias(conn, model.id, ref.alias)
        if number is None:
            raise NotFound(f"Model {model.name!r} has no alias {ref.alias!r}; set it with "
                           f"`stead models alias set {model.name}@{ref.alias} <version>`")
        return int(number)
    if ref.version is not None:
        return int(ref.version)
    if ref.stage is None or ref.stage.lower() == "latest":
        return latest_number(conn, model)
    stage = n.check_stage(ref.stage)
    number = conn.execute(select(func.max(_MV.c.version)).where(
        _MV.c.model_id == model.id, _MV.c.current_stage == stage, _MV.c.deleted_time.is_(None))).scalar()
    if number is None:
        raise NotFound(f"Model {model.name!r} has no version in stage {stage}")
    return int(number)

"""The param, metric and tag keys an experiment's runs use, found by a piece of their name.

What a column chooser asks: an experiment may have 1,500 metric keys, so the chooser never
lists them all; it asks for the first ``limit`` keys containing what was typed. One indexed
query per kind (the key is part of each table's primary key), deleted runs left out.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from stead.store import Store
from stead.store.tables import latest_metrics, params, runs, tags

__all__ = ["KeyKind", "KEY_KINDS", "experiment_keys"]

KeyKind = Literal["metrics", "params", "tags"]
KEY_KINDS: tuple[KeyKind, ...] = ("metrics", "params", "tags")
_TABLES = {"metrics": latest_metrics, "params": params, "tags": tags}


def _like_pattern(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its own ``%``, ``_`` and ``\\`` literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def experiment_keys(store: Store, experiment_id: str, kind: KeyKind, contains: str = "",
                    limit: int = 50) -> list[str]:
    """Up to ``limit`` distinct ``kind`` keys of the experiment's active runs that contain
    ``contains`` (case-insensitive on both databases), in name order."""
    table = _TABLES[kind]
    stmt = (
        select(table.c.key)
        .join(runs, runs.c.run_uuid == table.c.run_uuid)
        .where(runs.c.experiment_id == int(experiment_id), runs.c.lifecycle_stage == "active")
        .group_by(table.c.key)
        .order_by(table.c.key)
        .limit(limit)
    )
    if contains:
        stmt = stmt.where(table.c.key.ilike(_like_pattern(contains), escape="\\"))
    if kind == "tags":
        stmt = stmt.where(~table.c.key.startswith("mlflow."))
    with store.read() as conn:
        return [str(k) for k in conn.execute(stmt).scalars()]

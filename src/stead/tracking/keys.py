"""The param, metric and tag keys an experiment's runs use, found by a piece of their name.

What a column chooser asks: an experiment may have 1,500 metric keys over 1,500 runs (2.25
million latest values), so the chooser never lists them all, and the query never reads them
all. It walks the distinct keys on the key index (a recursive "skip scan": one index seek
per distinct key, however many runs have it), keeps those containing what was typed, and asks
for each whether one active run of the experiment has it (an index look-up that stops at the
first), until ``limit`` keys are found. One statement, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, literal, select

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
    ``contains`` (case-insensitive on both databases), in name order; tags named
    ``mlflow.*`` are left out."""
    table = _TABLES[kind]
    inner = table.alias("next_key")
    first = select(func.min(table.c.key).label("key"))
    walk = first.cte("distinct_keys", recursive=True)
    following = select(func.min(inner.c.key)).where(inner.c.key > walk.c.key).scalar_subquery()
    walk = walk.union_all(select(following.label("key")).where(walk.c.key.is_not(None)))
    used = table.alias("used")
    # A scalar sub-select with LIMIT 1, not EXISTS: PostgreSQL would turn EXISTS into a semi-join
    # that reads every row of the table; this stays one index look-up per key.
    in_experiment = select(literal(1)).select_from(used.join(runs, runs.c.run_uuid == used.c.run_uuid)).where(
        used.c.key == walk.c.key, runs.c.experiment_id == int(experiment_id), runs.c.lifecycle_stage == "active",
    ).limit(1).scalar_subquery().is_not(None)
    stmt = select(walk.c.key).where(walk.c.key.is_not(None), in_experiment).order_by(walk.c.key).limit(limit)
    if contains:
        stmt = stmt.where(walk.c.key.ilike(_like_pattern(contains), escape="\\"))
    if kind == "tags":
        stmt = stmt.where(~walk.c.key.startswith("mlflow.", autoescape=True))
    with store.read() as conn:
        return [str(k) for k in conn.execute(stmt).scalars()]

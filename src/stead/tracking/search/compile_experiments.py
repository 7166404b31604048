"""An experiment search as SQLAlchemy Core: WHERE clauses and ORDER BY over ``experiments``.

Tag filters are correlated ``EXISTS`` / ``NOT EXISTS`` on the ``(experiment_id, key)``
primary key of ``experiment_tags``. The default order is MLflow's: creation_time DESC,
then experiment_id ASC; an explicit order_by without experiment_id gets experiment_id DESC
appended as the tie-breaker, as in MLflow's SQL store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Select, String, select

from stead.store.tables import experiment_tags, experiments
from stead.tracking.search.ast import Comparison, OrderKey
from stead.tracking.search.parse import parse_experiment_filter, parse_experiment_order_by
from stead.tracking.search.sqlops import byte_order, compare

__all__ = ["apply_experiment_search", "experiment_conditions", "order_experiments"]

_COLUMNS: dict[str, Column[Any]] = {
    "name": experiments.c.name,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
    "experiment_id": experiments.c.experiment_id,
}
_DEFAULT_ORDER = (OrderKey("attribute", "creation_time", False), OrderKey("attribute", "experiment_id", True))


def apply_experiment_search(
    select_stmt: Select[Any], filter_text: str | None, order_by: Sequence[str] | None
) -> Select[Any]:
    """Add the filter's WHERE clauses and the ORDER BY to a ``select(...)`` over ``experiments``.

    ``select_stmt`` selects from the ``experiments`` table itself, already limited to the
    lifecycle stages searched. Raises ``InvalidParameter`` for a bad filter or order_by.
    """
    conditions = experiment_conditions(parse_experiment_filter(filter_text))
    keys = parse_experiment_order_by(order_by)
    return order_experiments(select_stmt.where(*conditions), keys)


def experiment_conditions(comparisons: Sequence[Comparison]) -> list[ColumnElement[bool]]:
    """One SQL condition per comparison (they are ANDed by ``Select.where``)."""
    return [_condition(c) for c in comparisons]


def _condition(c: Comparison) -> ColumnElement[bool]:
    if c.kind == "attribute":
        return compare(_COLUMNS[c.key], c.comparator, c.value)
    tag = select(experiment_tags.c.experiment_id).where(
        experiment_tags.c.experiment_id == experiments.c.experiment_id,
        experiment_tags.c.key == c.key,
    )
    if c.comparator == "IS NULL":
        return ~tag.exists()
    if c.comparator != "IS NOT NULL":
        tag = tag.where(compare(experiment_tags.c.value, c.comparator, c.value))
    return tag.exists()


def order_experiments(stmt: Select[Any], keys: Sequence[OrderKey]) -> Select[Any]:
    """Order by ``keys`` (MLflow's default when empty), ending with experiment_id."""
    keys = list(keys) or list(_DEFAULT_ORDER)
    if not any(k.key == "experiment_id" for k in keys):
        keys.append(OrderKey("attribute", "experiment_id", False))
    clauses: list[ColumnElement[Any]] = []
    for key in keys:
        column = _COLUMNS[key.key]
        sortable: ColumnElement[Any] = byte_order(column) if isinstance(column.type, String) else column
        clauses.append(sortable if key.ascending else sortable.desc())
    return stmt.order_by(*clauses)

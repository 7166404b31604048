"""A run search as SQLAlchemy Core: WHERE clauses and ORDER BY over stead's run tables.

Filters on metrics, params and tags become correlated ``EXISTS (SELECT ... WHERE run_uuid =
runs.run_uuid AND key = :key AND <condition>)``: a probe of the ``(run_uuid, key)`` primary
key per candidate run, so a query walking runs in the order asked stops at its LIMIT instead
of first building the whole list of matching runs. ``IS NULL`` (the run lacks the key) is
the same probe under ``NOT``. Filters on datasets stay ``run_uuid IN (SELECT ...)``.

Ordering by a metric, param or tag outer-joins one aliased row per key (the primary key
makes it at most one), so a run lacking it is kept and sorted last behind a rank. The rank
rules out reading an index in order, so a metric known to hold a number is instead
inner-joined with no rank: one that the filter compares (``=``, ``<``, ``>``...; NaN and
missing never match those), or, through ``plan_run_search``, the first order key of a
two-part search (runs holding a number for it, then the others). SQLite and PostgreSQL then
read ``ix_latest_metrics_key_value`` in value order and stop at the LIMIT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Select, String, and_, case, or_, select

from stead.store.tables import latest_metrics, params, run_inputs, runs, tags
from stead.tracking.search.ast import Comparison, OrderKey
from stead.tracking.search.parse import parse_order_by, parse_run_filter
from stead.tracking.search.sqlops import byte_order, compare

__all__ = ["apply_run_search", "plan_run_search", "run_conditions", "order_runs"]

# MLflow keeps a run's name both as an attribute and as this tag; stead keeps it in runs.name.
RUN_NAME_TAG = "mlflow.runName"

_COLUMNS: dict[str, Column[Any]] = {
    "run_id": runs.c.run_uuid,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "user_id": runs.c.user_id,
    "artifact_uri": runs.c.artifact_uri,
    "lifecycle_stage": runs.c.lifecycle_stage,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "experiment_id": runs.c.experiment_id,
}
_DATASET_COLUMNS: dict[str, Column[Any]] = {
    "name": run_inputs.c.name,
    "digest": run_inputs.c.digest,
    "context": run_inputs.c.context,
}
_KEYED = {"metric": latest_metrics, "param": params, "tag": tags}


# Comparators that never match NaN or a missing value: a run they keep holds a number.
_NUMERIC_ONLY = frozenset({"=", ">", ">=", "<", "<="})


def apply_run_search(
    select_stmt: Select[Any], filter_text: str | None, order_by: Sequence[str] | None
) -> Select[Any]:
    """Add the filter's WHERE clauses and the ORDER BY to a ``select(...)`` over ``runs``.

    ``select_stmt`` selects from the ``runs`` table itself (not an alias), already limited
    to the experiments and lifecycle stages searched. The order always ends with
    ``run_uuid`` so that offset paging is stable. Raises ``InvalidParameter`` for a bad
    filter or order_by, before touching the database.
    """
    return _compile(select_stmt, parse_run_filter(filter_text), parse_order_by(order_by))


def plan_run_search(
    select_stmt: Select[Any], filter_text: str | None, order_by: Sequence[str] | None
) -> list[Select[Any]]:
    """The search as one or more queries whose results, concatenated in turn, are its results.

    When the first order key is a metric the filter does not compare, there are two: the
    runs holding a number for it (which the database reads in index order and can stop at
    a LIMIT), then the runs where it is NaN or missing. Otherwise the one query of
    ``apply_run_search``.
    """
    comparisons = parse_run_filter(filter_text)
    keys = parse_order_by(order_by)
    first = keys[0] if keys else None
    if first is None or first.kind != "metric" or _numeric_metrics(comparisons, keys):
        return [_compile(select_stmt, comparisons, keys)]
    numeric = select(latest_metrics.c.run_uuid).where(
        latest_metrics.c.run_uuid == runs.c.run_uuid,
        latest_metrics.c.key == first.key,
        latest_metrics.c.value.is_not(None),
    )
    return [
        _compile(select_stmt, comparisons, keys, numeric_first=True),
        _compile(select_stmt.where(~numeric.exists()), comparisons, keys),
    ]


def _numeric_metrics(comparisons: Sequence[Comparison], keys: Sequence[OrderKey]) -> set[str]:
    """Order keys on metrics that the filter keeps only where they hold a number."""
    ordered = {k.key for k in keys if k.kind == "metric"}
    return {c.key for c in comparisons if c.kind == "metric" and c.comparator in _NUMERIC_ONLY} & ordered


def _compile(
    stmt: Select[Any], comparisons: Sequence[Comparison], keys: Sequence[OrderKey], *, numeric_first: bool = False
) -> Select[Any]:
    numeric = _numeric_metrics(comparisons, keys)
    joined: dict[str, Any] = {}
    for key in keys:
        if key.kind == "metric" and (key.key in numeric or (numeric_first and key is keys[0])):
            row = latest_metrics.alias()
            on = and_(row.c.run_uuid == runs.c.run_uuid, row.c.key == key.key)
            if key.key not in numeric:
                on = and_(on, row.c.value.is_not(None))
            stmt = stmt.join_from(runs, row, on)
            joined[key.key] = row
    conditions = []
    for c in comparisons:
        latest = joined.get(c.key) if c.kind == "metric" and c.comparator in _NUMERIC_ONLY else None
        conditions.append(_condition(c) if latest is None else compare(latest.c.value, c.comparator, c.value))
    return order_runs(stmt.where(*conditions), keys, joined)


def run_conditions(comparisons: Sequence[Comparison]) -> list[ColumnElement[bool]]:
    """One SQL condition per comparison (they are ANDed by ``Select.where``)."""
    return [_condition(c) for c in comparisons]


def _condition(c: Comparison) -> ColumnElement[bool]:
    if c.kind == "attribute":
        return compare(_COLUMNS[c.key], c.comparator, c.value)
    if c.kind == "tag" and c.key == RUN_NAME_TAG:
        return _run_name_tag(c)
    if c.kind == "dataset":
        inputs = select(run_inputs.c.run_uuid).where(compare(_DATASET_COLUMNS[c.key], c.comparator, c.value))
        return runs.c.run_uuid.in_(inputs)
    table = _KEYED[c.kind]
    having = select(table.c.run_uuid).where(table.c.run_uuid == runs.c.run_uuid, table.c.key == c.key)
    if c.comparator == "IS NULL":
        return ~having.exists()
    if c.comparator != "IS NOT NULL":
        matched = compare(table.c.value, c.comparator, c.value)
        if c.kind == "metric" and c.comparator == "!=":
            # A NULL value is NaN, and NaN differs from every number.
            matched = or_(matched, table.c.value.is_(None))
        having = having.where(matched)
    return having.exists()


def _run_name_tag(c: Comparison) -> ColumnElement[bool]:
    if c.comparator == "IS NULL":
        return runs.c.name == ""
    if c.comparator == "IS NOT NULL":
        return runs.c.name != ""
    return compare(runs.c.name, c.comparator, c.value)


def order_runs(stmt: Select[Any], keys: Sequence[OrderKey], joined: Mapping[str, Any] | None = None) -> Select[Any]:
    """Order by ``keys``, then (as MLflow does) start_time DESC unless given, then run_uuid.

    A run lacking the key sorts last in both directions; for metrics a NaN sorts after
    every number and before a missing value, in both directions (MLflow's SQL store).
    ``joined`` maps metric keys to ``latest_metrics`` aliases already inner-joined and
    holding a number for every run: those sort by value alone.
    """
    clauses: list[ColumnElement[Any]] = []
    for key in keys:
        if key.kind == "attribute" or (key.kind == "tag" and key.key == RUN_NAME_TAG):
            column = _COLUMNS[key.key if key.kind == "attribute" else "run_name"]
            if column.nullable:  # end_time
                clauses.append(case((column.is_(None), 1), else_=0))
            clauses.append(_directed(column, key.ascending))
            continue
        if key.kind == "metric" and joined and key.key in joined:
            clauses.append(_directed(joined[key.key].c.value, key.ascending))
            continue
        row = _KEYED[key.kind].alias()
        stmt = stmt.outerjoin_from(runs, row, and_(row.c.run_uuid == runs.c.run_uuid, row.c.key == key.key))
        if key.kind == "metric":
            rank = case((row.c.run_uuid.is_(None), 2), (row.c.value.is_(None), 1), else_=0)
        else:
            rank = case((row.c.run_uuid.is_(None), 1), else_=0)
        clauses += [rank, _directed(row.c.value, key.ascending)]
    if not any(k.kind == "attribute" and k.key == "start_time" for k in keys):
        clauses.append(runs.c.start_time.desc())
    clauses.append(runs.c.run_uuid)
    return stmt.order_by(*clauses)


def _directed(column: ColumnElement[Any], ascending: bool) -> ColumnElement[Any]:
    sortable = byte_order(column) if isinstance(column.type, String) else column
    return sortable if ascending else sortable.desc()

"""``logged-models/search``: MLflow's filter and order_by for logged models, compiled to SQL.

The filter is parsed by the tracking search grammar (``stead.tracking.search.grammar``, with
its caps on length, clauses and LIKE patterns) and every comparison, LIKE included, runs in
the database (``sqlops.compare``), as ``runs/search`` does: no pattern is matched in Python,
so no crafted pattern can hold the interpreter. Ordering, paging and the tag and param
look-ups are SQL too, so a page costs the same whatever the experiment holds.

Names: ``name``, ``model_id``, ``model_type``, ``status`` (``LOGGED_MODEL_READY``...),
``source_run_id``, ``creation_timestamp`` and ``last_updated_timestamp`` (``_ms`` spellings
too), ``tags.<key>``, ``params.<key>``; comparators ``=``, ``!=``, ``<``, ``<=``, ``>``,
``>=``, ``LIKE``, ``ILIKE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, case, exists, or_, select

from stead.errors import InvalidParameter
from stead.tracking.logged_models import STATUSES
from stead.tracking.tables import logged_model_params, logged_model_tags, logged_models
from stead.tracking.search.grammar import RawClause, check_order_by_count, invalid, parse_clauses
from stead.tracking.search.sqlops import byte_order, compare

__all__ = ["search_statement", "ATTRIBUTES"]

_T = logged_models
ATTRIBUTES = {"name": "name", "model_id": "model_id", "model_type": "model_type", "status": "status",
              "source_run_id": "source_run_id", "creation_timestamp": "creation_timestamp_ms",
              "creation_timestamp_ms": "creation_timestamp_ms", "creation_time": "creation_timestamp_ms",
              "last_updated_timestamp": "last_updated_timestamp_ms",
              "last_updated_timestamp_ms": "last_updated_timestamp_ms"}
_NUMBERS = {"creation_timestamp_ms", "last_updated_timestamp_ms"}
_OPS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE")
_ATTR_PREFIXES = (None, "attributes", "attribute", "attr")
_EXTRA = {"tags": logged_model_tags, "tag": logged_model_tags, "params": logged_model_params,
          "param": logged_model_params}
_HINT = "name, model_id, model_type, status, source_run_id, creation_timestamp, tags.<key> or params.<key>"


def _status_column() -> ColumnElement[Any]:
    return case(STATUSES, value=_T.c.status, else_=STATUSES[0])


def _number(text: str, clause: RawClause, value: Any) -> int | float:
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            raise invalid("filter", text, f"value {clause.value.text if clause.value else ''} is not a number",
                          clause.value.pos if clause.value else None, "e.g. creation_timestamp > 1700000000000"
                          ) from None


def _condition(text: str, clause: RawClause) -> ColumnElement[bool]:
    ident, value = clause.ident, clause.value
    if clause.op not in _OPS or value is None:
        raise invalid("filter", text, f"comparator {clause.op} is not supported here", clause.op_pos,
                      f"use one of {', '.join(_OPS)}")
    if value.kind not in ("string", "number"):
        raise invalid("filter", text, f"value {value.text} is neither a quoted string nor a number", value.pos,
                      f"e.g. {ident.text} = 'abc'")
    wanted: Any = value.value
    table = _EXTRA.get(ident.prefix or "")
    if table is not None:
        sub = select(table.c.key).where(table.c.model_id == _T.c.model_id, table.c.key == ident.key)
        if clause.op == "!=":  # a model without the key differs too
            return ~exists(sub.where(table.c.value == str(wanted)))
        return exists(sub.where(compare(table.c.value, clause.op, str(wanted))))
    field = ATTRIBUTES.get(ident.key) if ident.prefix in _ATTR_PREFIXES else None
    if field is None:
        raise invalid("filter", text, f"unknown field '{ident.text}'", ident.pos, f"use {_HINT}")
    if field == "status":
        column: Any = _status_column()
        if value.kind == "number" or str(wanted).isdigit():
            wanted = STATUSES.get(int(wanted), str(wanted))
    else:
        column = _T.c[field]
    if field in _NUMBERS:
        if clause.op in ("LIKE", "ILIKE"):
            raise invalid("filter", text, f"{clause.op} does not apply to {ident.key}", clause.op_pos,
                          "compare timestamps with =, <, >")
        wanted = _number(text, clause, wanted)
    else:
        wanted = str(wanted)
    condition = compare(column, clause.op, wanted)
    if clause.op == "!=" and field in ("model_type", "source_run_id"):
        return or_(column.is_(None), condition)
    return condition


def _order(stmt: Select[Any], order_by: Sequence[Any]) -> Select[Any]:
    check_order_by_count(list(order_by))
    keys: list[tuple[str, bool]] = []
    for item in order_by:
        if not isinstance(item, dict) or not item.get("field_name"):
            raise InvalidParameter(f"Invalid order_by {item!r}: expected {{'field_name': ..., 'ascending': ...}}")
        field = ATTRIBUTES.get(str(item["field_name"]))
        if field is None:
            raise InvalidParameter(f"Invalid order by field name: {item['field_name']}")
        keys.append((field, item.get("ascending", True) is not False))
    if not any(f == "creation_timestamp_ms" for f, _ in keys):
        keys.append(("creation_timestamp_ms", False))
    clauses = []
    for field, ascending in keys:
        column: Any = _T.c[field]
        sortable = byte_order(column) if isinstance(column.type, String) else column
        clauses.append((sortable if ascending else sortable.desc()).nulls_last())
    clauses.append(byte_order(_T.c.model_id))
    return stmt.order_by(*clauses)


def search_statement(experiment_ids: Sequence[int], filter_text: str | None, order_by: Sequence[Any]) -> Select[Any]:
    """The ordered SELECT of the active logged models of ``experiment_ids`` that match."""
    stmt = select(_T).where(_T.c.experiment_id.in_(list(experiment_ids)), _T.c.lifecycle_stage == "active")
    if filter_text and filter_text.strip():
        clauses = parse_clauses(filter_text, lambda ident: None, _HINT)
        stmt = stmt.where(*(_condition(filter_text, c) for c in clauses))
    return _order(stmt, order_by)

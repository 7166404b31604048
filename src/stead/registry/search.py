"""MLflow's search syntax for registered models and model versions, compiled to SQL.

The grammar (identifier, comparator, value, joined by AND) is the tracking search's
(``stead.tracking.search.grammar``); this module decides what the names mean here:

- registered models: ``name`` and ``tags.<key>``; order by ``name``,
  ``creation_timestamp``, ``last_updated_timestamp`` (alias ``timestamp``);
- model versions: ``name``, ``version_number``, ``run_id`` (also IN / NOT IN),
  ``source_path``, ``current_stage`` and ``tags.<key>``; order by ``name``,
  ``version_number``, ``creation_timestamp``, ``last_updated_timestamp``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, select

from stead.registry.tables import model_version_tags, model_versions, registered_model_tags, registered_models
from stead.tracking.search.grammar import RawClause, check_order_by_count, invalid, parse_clauses, parse_order_item
from stead.tracking.search.sqlops import byte_order, compare

__all__ = ["model_conditions", "model_order", "version_conditions", "version_order"]

_STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
_NUMBER_OPS = ("=", "!=", ">", ">=", "<", "<=")
_TAG_OPS = _STRING_OPS + ("IS NULL", "IS NOT NULL")

# name -> (column, comparators, value type)
_MODEL_FIELDS: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "name": (registered_models.c.name, _STRING_OPS, "string"),
}
_VERSION_FIELDS: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "name": (registered_models.c.name, _STRING_OPS, "string"),
    "version_number": (model_versions.c.version, _NUMBER_OPS, "number"),
    "run_id": (model_versions.c.run_id, _STRING_OPS + ("IN", "NOT IN"), "string"),
    "source_path": (model_versions.c.source, _STRING_OPS, "string"),
    "current_stage": (model_versions.c.current_stage, _STRING_OPS, "string"),
}
_MODEL_ORDER = {
    "name": registered_models.c.name,
    "creation_timestamp": registered_models.c.creation_timestamp,
    "last_updated_timestamp": registered_models.c.last_updated_timestamp,
    "timestamp": registered_models.c.last_updated_timestamp,
}
_VERSION_ORDER = {
    "name": registered_models.c.name,
    "version_number": model_versions.c.version,
    "creation_timestamp": model_versions.c.creation_timestamp,
    "last_updated_timestamp": model_versions.c.last_updated_timestamp,
    "timestamp": model_versions.c.last_updated_timestamp,
}


def _tag_condition(tag_table: Any, correlate: list[tuple[Any, Any]], clause: RawClause, key: str) -> ColumnElement[bool]:
    sub = select(tag_table.c.key).where(*(a == b for a, b in correlate), tag_table.c.key == key)
    if clause.op == "IS NULL":
        return ~sub.exists()
    if clause.op == "!=":  # MLflow: a model without the tag also differs (its prompt filter relies on it)
        return ~sub.where(tag_table.c.value == (clause.value.value if clause.value else None)).exists()
    if clause.op != "IS NOT NULL":
        sub = sub.where(compare(tag_table.c.value, clause.op, clause.value.value if clause.value else None))
    return sub.exists()


def _conditions(
    text: str | None, fields: dict[str, tuple[Any, tuple[str, ...], str]], tag_table: Any, correlate: list[tuple[Any, Any]]
) -> list[ColumnElement[bool]]:
    if text is None or not str(text).strip():
        return []
    if not isinstance(text, str):
        raise invalid("filter", str(text), "expected a string")
    names = ", ".join(fields)
    raw = parse_clauses(text, lambda ident: None, f"{names} or tags.<key>")
    out: list[ColumnElement[bool]] = []
    for clause in raw:
        ident = clause.ident
        if ident.prefix in ("tag", "tags"):
            if clause.op not in _TAG_OPS:
                raise invalid("filter", text, f"comparator {clause.op} does not apply to tags", clause.op_pos,
                              f"comparators for tags are {', '.join(_TAG_OPS)}")
            if clause.value is not None and clause.value.kind != "string":
                raise invalid("filter", text, f"value {clause.value.text} is not a quoted string", clause.value.pos,
                              "tags compare to quoted strings, e.g. tags.team = 'ml'")
            out.append(_tag_condition(tag_table, correlate, clause, ident.key))
            continue
        key = ident.key if ident.prefix in (None, "attribute", "attributes", "attr") else None
        if key not in fields:
            raise invalid("filter", text, f"unknown field '{ident.text}'", ident.pos, f"use {names} or tags.<key>")
        column, ops, kind = fields[key]
        if clause.op not in ops:
            raise invalid("filter", text, f"comparator {clause.op} does not apply to {key}", clause.op_pos,
                          f"comparators for {key} are {', '.join(ops)}")
        value = clause.value
        assert value is not None
        if value.kind == "list":
            items = value.value
            assert isinstance(items, tuple)
            if not items or any(i.kind != "string" for i in items):
                raise invalid("filter", text, "IN needs a list of quoted strings", clause.op_pos, "e.g. ('a', 'b')")
            out.append(compare(column, clause.op, tuple(str(i.value) for i in items)))
            continue
        if kind == "number":
            try:
                number = int(str(value.value))
            except ValueError:
                raise invalid("filter", text, f"value {value.text} is not a whole number", value.pos,
                              f"e.g. {key} > 2") from None
            if not -(2**63) <= number < 2**63:
                raise invalid("filter", text, f"value {value.text} does not fit in 64 bits", value.pos,
                              f"e.g. {key} > 2")
            out.append(compare(column, clause.op, number))
            continue
        if value.kind != "string":
            raise invalid("filter", text, f"value {value.text} is not a quoted string", value.pos,
                          f"e.g. {key} = 'abc'")
        out.append(compare(column, clause.op, str(value.value)))
    return out


def _order(stmt: Select[Any], items: Sequence[str] | None, columns: dict[str, Any], default: list[tuple[str, bool]],
           tie: list[tuple[str, bool]]) -> Select[Any]:
    check_order_by_count(items)
    keys: list[tuple[str, bool]] = []
    for item in [items] if isinstance(items, str) else (items or []):
        raw = parse_order_item(item, ", ".join(columns))
        key = raw.ident.key if raw.ident.prefix in (None, "attribute", "attributes", "attr") else None
        if key not in columns:
            raise invalid("order_by item", item, f"cannot order by '{raw.ident.text}'", raw.ident.pos,
                          f"order by {', '.join(columns)}")
        keys.append((key, raw.ascending))
    keys = keys or list(default)
    for key, asc in tie:
        if not any(k == key for k, _ in keys):
            keys.append((key, asc))
    clauses = []
    for key, asc in keys:
        column = columns[key]
        sortable = byte_order(column) if isinstance(column.type, String) else column
        clauses.append(sortable if asc else sortable.desc())
    return stmt.order_by(*clauses)


def model_conditions(text: str | None) -> list[ColumnElement[bool]]:
    """WHERE conditions over ``registered_models`` for a registered-model filter."""
    return _conditions(text, _MODEL_FIELDS, registered_model_tags,
                       [(registered_model_tags.c.model_id, registered_models.c.id)])


def version_conditions(text: str | None) -> list[ColumnElement[bool]]:
    """WHERE conditions over ``model_versions`` joined to ``registered_models``."""
    return _conditions(text, _VERSION_FIELDS, model_version_tags, [
        (model_version_tags.c.model_id, model_versions.c.model_id),
        (model_version_tags.c.version, model_versions.c.version),
    ])


def model_order(stmt: Select[Any], order_by: Sequence[str] | None) -> Select[Any]:
    """MLflow's default: name ASC; ties broken by name."""
    return _order(stmt, order_by, _MODEL_ORDER, [("name", True)], [("name", True)])


def version_order(stmt: Select[Any], order_by: Sequence[str] | None) -> Select[Any]:
    """Default: name ASC, version_number DESC (newest first within a model)."""
    return _order(stmt, order_by, _VERSION_ORDER, [("name", True), ("version_number", False)],
                  [("name", True), ("version_number", False)])

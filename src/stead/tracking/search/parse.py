"""MLflow's search rules: which names, comparators and values a run or experiment search takes.

``grammar.py`` gives the shape (identifier, comparator, value); this module resolves prefixes
and attribute aliases, checks each comparator against the type it is applied to, converts
values, and reports every violation as one ``InvalidParameter`` line that quotes the input,
gives the column, and lists what is allowed. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stead.errors import InvalidParameter
from stead.tracking.search.ast import Comparator, Comparison, Kind, OrderKey, Value
from stead.tracking.search.grammar import (
    RawClause,
    RawIdent,
    RawValue,
    check_order_by_count,
    invalid,
    parse_clauses,
    parse_order_item,
)

__all__ = [
    "parse_run_filter",
    "parse_order_by",
    "parse_experiment_filter",
    "parse_experiment_order_by",
]

_METRIC_OPS: tuple[Comparator, ...] = ("=", "!=", ">", ">=", "<", "<=")
_STRING_OPS: tuple[Comparator, ...] = ("=", "!=", "LIKE", "ILIKE")
_LIST_OPS: tuple[Comparator, ...] = ("IN", "NOT IN")
_NULL_OPS: tuple[Comparator, ...] = ("IS NULL", "IS NOT NULL")
_ALL_OPS = frozenset(_METRIC_OPS + _STRING_OPS + _LIST_OPS + _NULL_OPS)

# The type of an attribute decides its comparators and how its value is read.
_ATTRIBUTE_OPS: dict[str, tuple[Comparator, ...]] = {
    "string": _STRING_OPS,
    "number": _METRIC_OPS,
    "run_id": _STRING_OPS + _LIST_OPS,  # MLflow: only run_id takes a list
    "experiment_id": ("=", "!="),
}
_KIND_OPS: dict[Kind, tuple[Comparator, ...]] = {
    "metric": _METRIC_OPS,
    "param": _STRING_OPS + _NULL_OPS,
    "tag": _STRING_OPS + _NULL_OPS,
    "dataset": _STRING_OPS + _LIST_OPS,
}
_KIND_LABEL: dict[Kind, str] = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "dataset": "datasets",
    "attribute": "attributes",
}
_DATASET_KEYS = ("name", "digest", "context")
_INT64 = 2**63


@dataclass(frozen=True)
class _Domain:
    """What one search (runs or experiments) accepts."""

    prefixes: Mapping[str, Kind]
    attribute_types: Mapping[str, str]  # canonical attribute -> type
    filter_names: Mapping[str, str]  # spelling -> canonical, for filters
    order_names: Mapping[str, str]  # spelling -> canonical, for order_by
    order_kinds: frozenset[Kind]
    ident_example: str
    prefix_help: str
    logged_help: str = ""


_RUN_ATTRIBUTES = {
    "run_id": "run_id",
    "run_name": "string",
    "status": "string",
    "user_id": "string",
    "artifact_uri": "string",
    "lifecycle_stage": "string",
    "start_time": "number",
    "end_time": "number",
    "experiment_id": "experiment_id",
}
_RUN_NAMES = {name: name for name in _RUN_ATTRIBUTES} | {
    "run_uuid": "run_id",
    "created": "start_time",
    "Created": "start_time",
    "run name": "run_name",
    "Run name": "run_name",
    "Run Name": "run_name",
}

RUNS = _Domain(
    prefixes={
        "metric": "metric", "metrics": "metric",
        "param": "param", "params": "param", "parameter": "param", "parameters": "param",
        "tag": "tag", "tags": "tag",
        "attribute": "attribute", "attributes": "attribute", "attr": "attribute", "run": "attribute",
        "dataset": "dataset", "datasets": "dataset",
    },
    attribute_types=_RUN_ATTRIBUTES,
    filter_names=_RUN_NAMES,
    order_names=_RUN_NAMES,
    order_kinds=frozenset({"metric", "param", "tag", "attribute"}),
    ident_example="metrics.acc, params.lr, tags.team or status",
    prefix_help="metrics., params., tags., attributes. or datasets.",
    logged_help="for a logged value write metrics.{key}, params.{key} or tags.{key}",
)

_EXPERIMENT_ATTRIBUTES = {
    "name": "string",
    "creation_time": "number",
    "last_update_time": "number",
    "experiment_id": "experiment_id",
}
EXPERIMENTS = _Domain(
    prefixes={
        "attribute": "attribute", "attributes": "attribute", "attr": "attribute",
        "tag": "tag", "tags": "tag",
    },
    attribute_types=_EXPERIMENT_ATTRIBUTES,
    filter_names={"name": "name", "creation_time": "creation_time", "last_update_time": "last_update_time"},
    order_names={name: name for name in _EXPERIMENT_ATTRIBUTES},
    order_kinds=frozenset({"attribute"}),
    ident_example="name, creation_time, last_update_time or tags.team",
    prefix_help="attributes. or tags.",
    logged_help="for a tag write tags.{key}",
)


def parse_run_filter(text: str | None) -> list[Comparison]:
    """Parse a run search filter such as ``metrics.acc > 0.9 AND params.lr = '0.01'``."""
    return _parse_filter(RUNS, text)


def parse_experiment_filter(text: str | None) -> list[Comparison]:
    """Parse an experiment search filter such as ``name LIKE 'churn%' AND tags.team = 'ml'``."""
    return _parse_filter(EXPERIMENTS, text)


def parse_order_by(items: Sequence[str] | None) -> list[OrderKey]:
    """Parse a run search order_by list such as ``["metrics.acc DESC", "params.lr"]``."""
    return _parse_order(RUNS, items)


def parse_experiment_order_by(items: Sequence[str] | None) -> list[OrderKey]:
    """Parse an experiment search order_by list such as ``["name", "creation_time DESC"]``."""
    return _parse_order(EXPERIMENTS, items)


# -- filters ------------------------------------------------------------------------------


class _Rejected(Exception):
    """A name or value that breaks the rules: the problem, where, and what is allowed."""

    def __init__(self, problem: str, pos: int, hint: str = "") -> None:
        super().__init__(problem)
        self.problem, self.pos, self.hint = problem, pos, hint


def _parse_filter(domain: _Domain, text: str | None) -> list[Comparison]:
    if text is None:
        return []
    if not isinstance(text, str):
        raise InvalidParameter(f"Invalid filter {text!r}: expected a string")
    if not text.strip():
        return []

    def hint(ident: RawIdent) -> str | None:
        try:
            kind, key = _resolve(domain, ident, for_order=False)
        except _Rejected:
            return None
        label, ops = _comparators(domain, kind, key)
        return f"comparators for {label} are {', '.join(ops)}"

    raw = parse_clauses(text, hint, domain.ident_example)
    try:
        return [_comparison(domain, clause) for clause in raw]
    except _Rejected as exc:
        raise invalid("filter", text, exc.problem, exc.pos, exc.hint) from None


def _comparison(domain: _Domain, clause: RawClause) -> Comparison:
    kind, key = _resolve(domain, clause.ident, for_order=False)
    label, ops = _comparators(domain, kind, key)
    allowed = f"comparators for {label} are {', '.join(ops)}"
    if clause.op not in _ALL_OPS:
        raise _Rejected(f"unexpected '{clause.op}'", clause.op_pos, allowed)
    if clause.op not in ops:
        lists = clause.op in _LIST_OPS and kind == "attribute" and "run_id" in domain.attribute_types
        extra = " (only run_id takes a list)" if lists else ""
        raise _Rejected(f"comparator {clause.op} does not apply to {label}", clause.op_pos, allowed + extra)
    return Comparison(kind, key, clause.op, _convert(domain, kind, key, clause))


def _resolve(domain: _Domain, ident: RawIdent, *, for_order: bool) -> tuple[Kind, str]:
    """The (kind, canonical key) an identifier names, or ``_Rejected``."""
    kind: Kind = "attribute"
    if ident.prefix is not None:
        found = domain.prefixes.get(ident.prefix)
        if found is None:
            raise _Rejected(f"unknown prefix '{ident.prefix}'", ident.pos, f"use {domain.prefix_help}")
        kind = found
    key = ident.key
    if not key:
        raise _Rejected(f"empty key in '{ident.text}'", ident.pos, "name the key, e.g. metrics.acc")
    if for_order and kind not in domain.order_kinds:
        orderable = ", ".join(sorted(_KIND_LABEL[k] for k in domain.order_kinds))
        raise _Rejected(f"cannot order by {_KIND_LABEL[kind]}", ident.pos, f"order by {orderable}")
    if kind == "attribute":
        names = domain.order_names if for_order else domain.filter_names
        canonical = names.get(key)
        if canonical is None:
            listed = ", ".join(sorted({n for n in names.values()}))
            tail = ("; " + domain.logged_help.format(key=key)) if domain.logged_help else ""
            raise _Rejected(f"unknown attribute '{key}'", ident.pos, f"attributes are {listed}{tail}")
        return kind, canonical
    if kind == "dataset" and key not in _DATASET_KEYS:
        raise _Rejected(f"unknown dataset field '{key}'", ident.pos, f"dataset fields are {', '.join(_DATASET_KEYS)}")
    return kind, key


def _comparators(domain: _Domain, kind: Kind, key: str) -> tuple[str, tuple[Comparator, ...]]:
    if kind == "attribute":
        return key, _ATTRIBUTE_OPS[domain.attribute_types[key]]
    return _KIND_LABEL[kind], _KIND_OPS[kind]


def _value_type(domain: _Domain, kind: Kind, key: str) -> str:
    if kind == "metric":
        return "number"
    if kind == "attribute":
        return {"run_id": "string"}.get(domain.attribute_types[key], domain.attribute_types[key])
    return "string"


def _convert(domain: _Domain, kind: Kind, key: str, clause: RawClause) -> Value:
    value = clause.value
    if value is None:  # IS NULL / IS NOT NULL
        return None
    if value.kind == "list":
        items = value.value
        assert isinstance(items, tuple)
        if not items:
            raise _Rejected("empty list", clause.op_pos, "IN needs at least one quoted string, e.g. ('a', 'b')")
        for item in items:
            if item.kind != "string":
                raise _Rejected(f"list item {item.text} is not a quoted string", item.pos,
                                "write the list as ('a', 'b')")
        return tuple(str(item.value) for item in items)
    label = _KIND_LABEL[kind] if kind != "attribute" else key
    wanted = _value_type(domain, kind, key)
    if wanted == "number":
        if value.kind != "number":
            raise _Rejected(f"value {value.text} is not a number", value.pos,
                            f"{label} compare to numbers, e.g. {_example(kind, key)}")
        return _number(str(value.value), integral=kind == "attribute")
    if wanted == "experiment_id":
        text = str(value.value)
        if value.kind not in ("string", "number") or not text.isdigit():
            raise _Rejected(f"value {value.text} is not an experiment id", value.pos,
                            "experiment ids are whole numbers, e.g. experiment_id = '3'")
        return int(text)
    if value.kind != "string":
        shown = value.text if value.kind == "number" else f"{value.text} (unquoted)"
        hint = f"use {clause.ident.text} IS NULL" if str(value.value).upper() == "NULL" and kind in ("param", "tag") \
            else f"{label} compare to quoted strings, e.g. {_example(kind, key)}"
        raise _Rejected(f"value {shown} is not a quoted string", value.pos, hint)
    text = str(value.value)
    if clause.op in ("LIKE", "ILIKE") and _ends_with_escape(text):
        raise _Rejected(f"pattern {value.text} ends with the escape character \\", value.pos,
                        "write \\\\ for a literal backslash")
    return text


def _number(text: str, *, integral: bool) -> int | float:
    """A metric value is a float; a time attribute keeps an integer literal exact."""
    if integral and not any(c in text for c in ".eE"):
        number = int(text)
        if -_INT64 <= number < _INT64:
            return number
    return float(text)


def _ends_with_escape(pattern: str) -> bool:
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            if i + 1 == len(pattern):
                return True
            i += 1
        i += 1
    return False


def _example(kind: Kind, key: str) -> str:
    return {
        "metric": "metrics.acc > 0.9",
        "param": "params.lr = '0.01'",
        "tag": "tags.team = 'vision'",
        "dataset": "datasets.name = 'train'",
    }.get(kind, f"{key} > 1700000000000" if key.endswith("_time") else f"{key} = 'abc'")


# -- order_by -----------------------------------------------------------------------------


def _parse_order(domain: _Domain, items: Sequence[str] | None) -> list[OrderKey]:
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    check_order_by_count(items)
    keys: list[OrderKey] = []
    seen: set[tuple[Kind, str]] = set()
    for item in items:
        if not isinstance(item, str):
            raise InvalidParameter(f"Invalid order_by item {item!r}: expected a string such as 'metrics.acc DESC'")
        raw = parse_order_item(item, domain.ident_example)
        try:
            kind, key = _resolve(domain, raw.ident, for_order=True)
        except _Rejected as exc:
            raise invalid("order_by item", item, exc.problem, exc.pos, exc.hint) from None
        if (kind, key) in seen:
            raise invalid("order_by item", item, "repeats a key already in order_by", None,
                          "name each key once")
        seen.add((kind, key))
        keys.append(OrderKey(kind, key, raw.ascending))
    return keys

"""The runs table's state and rows, as pure functions of the query string and the runs.

The state lives in the URL so that a link shows what its sender saw: ``filter`` (the search
DSL), ``c`` (one per chosen column: ``metrics.<key>``, ``params.<key>``, ``tags.<key>``),
``order`` (``<column> ASC|DESC``), ``page`` (from 1) and ``size``. Without ``c`` the table
shows a few of the params and metrics the page's runs have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from stead.errors import InvalidParameter
from stead.tracking.records import Run

__all__ = ["TableState", "Column", "parse_state", "column_of", "default_columns", "rows_of", "sort_link_order",
           "PAGE_SIZES"]

PAGE_SIZES = (25, 50, 100, 250, 500)
_KINDS = ("metrics", "params", "tags")
_ATTRIBUTES = {"run_name": "Run name", "start_time": "Started", "status": "Status", "user_id": "User"}
_MAX_COLUMNS = 200
_DEFAULT_EACH = 4


@dataclass(frozen=True)
class Column:
    """A chosen column: ``kind`` is metrics, params or tags; ``id`` is ``kind.key``."""

    kind: str
    key: str

    @property
    def id(self) -> str:
        return f"{self.kind}.{self.key}"

    @property
    def order_name(self) -> str:
        """The column in the order_by syntax (a key is quoted with backquotes)."""
        return f"{self.kind}.`{self.key}`"


@dataclass
class TableState:
    filter: str = ""
    columns: list[Column] = field(default_factory=list)
    order: str = ""  # "<column id> ASC|DESC", or an attribute ("start_time DESC")
    page: int = 1
    size: int = 50
    chosen: bool = False  # the columns came from the URL (not the defaults)

    @property
    def order_by(self) -> list[str]:
        """The order as the search's order_by list."""
        if not self.order:
            return []
        name, _, direction = self.order.rpartition(" ")
        if direction not in ("ASC", "DESC") or not name:
            name, direction = self.order, "ASC"
        if name in _ATTRIBUTES:
            return [f"attributes.{name} {direction}"]
        return [f"{column_of(name).order_name} {direction}"]

    def pairs(self, **changes: Any) -> list[tuple[str, str]]:
        """The query pairs of this state, with ``changes`` (filter, columns, order, page, size)."""
        values: dict[str, Any] = {"filter": self.filter, "columns": self.columns, "order": self.order,
                                  "page": self.page, "size": self.size, **changes}
        out: list[tuple[str, str]] = [("filter", values["filter"])]
        out += [("c", c.id) for c in values["columns"]]
        out += [("order", values["order"])]
        if values["page"] != 1:
            out.append(("page", str(values["page"])))
        if values["size"] != 50:
            out.append(("size", str(values["size"])))
        return out


def column_of(text: str) -> Column:
    """``metrics.acc`` -> Column("metrics", "acc"); a bare key is a metric."""
    kind, sep, key = text.partition(".")
    if sep and kind in _KINDS and key:
        return Column(kind, key)
    if not text.strip():
        raise InvalidParameter("Empty column name: use metrics.<key>, params.<key> or tags.<key>")
    return Column("metrics", text.strip())


def _int(text: str, name: str, low: int, high: int, default: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidParameter(f"Invalid {name} {text[:40]!r}: use a whole number") from None
    if not low <= value <= high:
        raise InvalidParameter(f"Invalid {name} {value}: use {low} to {high}")
    return value


def parse_state(query: dict[str, Any]) -> TableState:
    def values(name: str) -> list[str]:
        value = query.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    def first(name: str) -> str:
        found = values(name)
        return found[-1] if found else ""

    columns: list[Column] = []
    for text in values("c"):
        if text.strip():
            column = column_of(text)
            if column not in columns:
                columns.append(column)
    if len(columns) > _MAX_COLUMNS:
        raise InvalidParameter(f"{len(columns)} columns chosen, more than {_MAX_COLUMNS}: choose fewer")
    size = _int(first("size"), "page size", 1, PAGE_SIZES[-1], 50)
    page = _int(first("page"), "page", 1, 1_000_000, 1)
    return TableState(first("filter").strip(), columns, first("order").strip(), page, size, chosen=bool(columns))


def default_columns(runs: list[Run]) -> list[Column]:
    """A few params and metrics the runs have (the most common first), when none were chosen."""
    counts: dict[Column, int] = {}
    for run in runs:
        for key in run.data.params:
            counts[Column("params", key)] = counts.get(Column("params", key), 0) + 1
        for key in run.data.metrics:
            counts[Column("metrics", key)] = counts.get(Column("metrics", key), 0) + 1
    ranked = sorted(counts, key=lambda c: (-counts[c], c.key))
    params = sorted([c for c in ranked if c.kind == "params"][:_DEFAULT_EACH], key=lambda c: c.key)
    metrics = sorted([c for c in ranked if c.kind == "metrics"][:_DEFAULT_EACH], key=lambda c: c.key)
    return [*params, *metrics]


def _cell(run: Run, column: Column) -> Any:
    if column.kind == "metrics":
        metric = run.data.metrics.get(column.key)
        if metric is None or (isinstance(metric.value, float) and not math.isfinite(metric.value)):
            return None if metric is None else str(metric.value)
        return metric.value
    if column.kind == "params":
        return run.data.params.get(column.key)
    return run.data.tags.get(column.key)


def rows_of(runs: list[Run], columns: list[Column]) -> list[dict[str, Any]]:
    """One plain dict per run: its id, name, status, start time and the chosen columns' values."""
    return [
        {"run_id": r.info.run_id, "run_name": r.info.run_name, "status": r.info.status.value,
         "start_time": r.info.start_time, "user_id": r.info.user_id,
         "values": [_cell(r, c) for c in columns]}
        for r in runs
    ]


def sort_link_order(state: TableState, name: str) -> str:
    """The ``order`` a column header's link sets: descending first, then ascending."""
    current = state.order.rpartition(" ")
    if current[0] == name and current[2] == "DESC":
        return f"{name} ASC"
    return f"{name} DESC"

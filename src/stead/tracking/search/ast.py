"""What a search filter and an order_by list mean, as plain data (no parsing, no SQL).

A filter is a list of ``Comparison`` joined by AND; an order_by list is a list of
``OrderKey``. Both are produced by the parsers in this package and consumed by the SQL
compilers, and are small enough to build by hand in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["Kind", "Comparator", "Value", "Comparison", "OrderKey"]

# What the left-hand side names: a logged value (metric, param, tag), a column of the run or
# experiment itself (attribute), or a dataset the run consumed.
Kind: TypeAlias = Literal["metric", "param", "tag", "attribute", "dataset"]

Comparator: TypeAlias = Literal[
    "=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]

# A string, a number, a list of strings (IN / NOT IN) or None (IS NULL / IS NOT NULL).
Value: TypeAlias = str | int | float | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One clause, e.g. ``metrics.acc > 0.9`` is ``Comparison("metric", "acc", ">", 0.9)``.

    For attributes, ``key`` is the canonical name: ``run_id`` (also for ``run_uuid``),
    ``run_name`` (also for ``run name``), ``start_time`` (also for ``created``).
    """

    kind: Kind
    key: str
    comparator: Comparator
    value: Value


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One order_by item, e.g. ``metrics.acc DESC`` is ``OrderKey("metric", "acc", False)``."""

    kind: Kind
    key: str
    ascending: bool = True

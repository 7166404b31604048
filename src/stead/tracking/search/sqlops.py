"""Comparators as SQL that means the same on SQLite and PostgreSQL.

``compare(column, comparator, value)`` turns one comparator into a SQL condition. Two
constructs underneath are compiled per database so that one ``Select`` behaves identically
on both:

- ``like(column, pattern)``: MLflow's case-sensitive LIKE, with ``\\`` as the escape
  character. PostgreSQL's LIKE already is; SQLite's is case-insensitive for ASCII, so there
  the pattern is translated to the equivalent GLOB (always case-sensitive).
- ``byte_order(column)``: sort strings by code point. PostgreSQL sorts by the database's
  collation (``en_US.UTF-8`` puts ``a`` before ``B``), so there the column gets
  ``COLLATE "C"``; SQLite's default BINARY collation already sorts this way.
"""

from __future__ import annotations

import operator
from typing import Any

from sqlalchemy import Boolean, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from stead.errors import InvalidParameter

__all__ = ["ESCAPE", "compare", "like", "ilike", "byte_order", "like_to_glob"]

ESCAPE = "\\"


class _CaseSensitiveLike(FunctionElement[bool]):
    """Arguments: the column, the LIKE pattern, the same pattern as a GLOB."""

    name = "stead_like"
    type = Boolean()
    inherit_cache = True


class _ByteOrder(FunctionElement[Any]):
    name = "stead_byte_order"
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


def compare(column: ColumnElement[Any], comparator: str, value: Any) -> ColumnElement[bool]:
    """``column <comparator> value`` for every comparator but IS NULL / IS NOT NULL."""
    if comparator == "LIKE":
        return like(column, value)
    if comparator == "ILIKE":
        return ilike(column, value)
    if comparator == "IN":
        return column.in_(value)
    if comparator == "NOT IN":
        return column.not_in(value)
    op = _OPERATORS.get(comparator)
    if op is None:
        raise InvalidParameter(f"Comparator {comparator!r} cannot be compiled to SQL")
    return op(column, value)  # type: ignore[no-any-return]


_OPERATORS = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def like(column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    """``column LIKE pattern``, case-sensitive on every database; ``\\`` escapes % and _."""
    return _CaseSensitiveLike(column, literal(pattern), literal(like_to_glob(pattern)))


def ilike(column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    """Case-insensitive LIKE with the same escape rules (ILIKE on PostgreSQL, lower() LIKE lower() elsewhere)."""
    like_to_glob(pattern)  # the same validation as like()
    return column.ilike(pattern, escape=ESCAPE)


def byte_order(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` for ORDER BY, sorting strings by code point on every database."""
    return _ByteOrder(column)


def like_to_glob(pattern: str) -> str:
    """The GLOB pattern that matches what the LIKE ``pattern`` (escape ``\\``) matches."""
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == ESCAPE:
            escaped = next(chars, None)
            if escaped is None:
                raise InvalidParameter(
                    f"Invalid LIKE pattern {pattern!r}: it ends with the escape character \\; "
                    "write \\\\ for a literal backslash"
                )
            out.append(_glob_literal(escaped))
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        else:
            out.append(_glob_literal(ch))
    return "".join(out)


def _glob_literal(ch: str) -> str:
    # In GLOB, *, ? and [ are special; a one-character class matches them literally.
    return f"[{ch}]" if ch in "*?[" else ch


@compiles(_CaseSensitiveLike)
def _like_default(element: _CaseSensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern, _ = element.clauses
    escape = compiler.render_literal_value(ESCAPE, String())
    return f"({compiler.process(column, **kw)} LIKE {compiler.process(pattern, **kw)} ESCAPE {escape})"


@compiles(_CaseSensitiveLike, "sqlite")
def _like_sqlite(element: _CaseSensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    column, _, glob = element.clauses
    return f"({compiler.process(column, **kw)} GLOB {compiler.process(glob, **kw)})"


@compiles(_ByteOrder)
def _order_default(element: _ByteOrder, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


@compiles(_ByteOrder, "postgresql")
def _order_postgresql(element: _ByteOrder, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f'{compiler.process(column, **kw)} COLLATE "C"'

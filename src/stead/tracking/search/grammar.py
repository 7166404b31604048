"""The search syntax as a lark grammar, and its parse into raw clauses with positions.

This layer knows the *shape* of a filter (identifier, comparator, value, joined by AND) and
of an order_by item (identifier, optional ASC/DESC), not what the names mean: which
prefixes, attributes and comparators are valid is decided by ``parse.py`` for runs and for
experiments. Every lark error is turned into one ``InvalidParameter`` line here that quotes
the input, says where and what went wrong, and what was expected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, cast

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from stead.errors import InvalidParameter

__all__ = [
    "RawIdent",
    "RawValue",
    "RawClause",
    "RawOrder",
    "parse_clauses",
    "parse_order_item",
    "parse_ident",
    "invalid",
    "check_order_by_count",
    "MAX_FILTER_LENGTH",
    "MAX_CLAUSES",
    "MAX_LIST_ITEMS",
    "MAX_PATTERN_LENGTH",
    "MAX_ORDER_BY",
]

# The cost of one search is capped, so a crafted filter is a 400 rather than a query that
# exceeds SQLite's expression depth (1,000) or keeps a worker busy matching patterns.
MAX_FILTER_LENGTH = 250_000  # characters: 200 clauses with a long LIKE pattern each, and an IN list
MAX_CLAUSES = 200  # clauses joined by AND
MAX_LIST_ITEMS = 1_000  # values in one IN (...) list
MAX_PATTERN_LENGTH = 500  # characters of one LIKE / ILIKE pattern
MAX_ORDER_BY = 50  # order_by keys

_GRAMMAR = r"""
filter: clause (AND clause)*

clause: ident SYMBOL_OP value   -> binary
      | ident LIKE value        -> binary
      | ident ILIKE value       -> binary
      | ident IN list           -> in_list
      | ident NOT IN list       -> not_in_list
      | ident IS NULL           -> is_null
      | ident IS NOT NULL       -> is_not_null

order_item: ident (ASC | DESC)?

ident: NAME_PATH                   -> bare_ident
     | NAME_PATH "." _quoted_name  -> prefixed_ident
     | _quoted_name                -> quoted_ident
_quoted_name: BQ_NAME | DQ_STRING | SQ_STRING

value: SQ_STRING | DQ_STRING | NUMBER | NAME_PATH
list: "(" ")"
    | "(" item ("," item)* ")"
item: SQ_STRING | DQ_STRING | NUMBER | NAME_PATH

AND.2: /and\b/i
LIKE.2: /like\b/i
ILIKE.2: /ilike\b/i
IN.2: /in\b/i
NOT.2: /not\b/i
IS.2: /is\b/i
NULL.2: /null\b/i
ASC.2: /asc\b/i
DESC.2: /desc\b/i

NAME_PATH: /[^\W\d]\w*(\.\w+)*/
BQ_NAME: /`(?:[^`]|``)*`/
DQ_STRING: /"(?:[^"]|"")*"/
SQ_STRING: /'(?:[^']|'')*'/
NUMBER: /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/
SYMBOL_OP: /[^\s\w'"`(),.+\-]+/

%import common.WS
%ignore WS
"""



@functools.cache
def _parser() -> Lark:
    """Built on first use (about 30 ms), not at import."""
    return Lark(
        _GRAMMAR,
        parser="lalr",
        lexer="contextual",
        start=["filter", "order_item", "ident"],
        maybe_placeholders=False,
    )


_QUOTES = {"'": "string", '"': "string", "`": "quoted name"}


@dataclass(frozen=True, slots=True)
class RawIdent:
    """An identifier as typed: ``prefix`` is the part before the first dot (None if none)."""

    prefix: str | None
    key: str
    pos: int  # 0-based offset in the parsed text
    text: str


@dataclass(frozen=True, slots=True)
class RawValue:
    kind: Literal["string", "number", "bare", "list"]
    value: str | tuple[RawValue, ...]
    pos: int
    text: str


@dataclass(frozen=True, slots=True)
class RawClause:
    ident: RawIdent
    op: str  # as typed for symbols ("=", "~"), upper-case for words ("LIKE", "NOT IN")
    op_pos: int
    value: RawValue | None


@dataclass(frozen=True, slots=True)
class RawOrder:
    ident: RawIdent
    ascending: bool


# Given the identifier before a bad comparator, says which comparators it takes.
ComparatorHint = Callable[[RawIdent], str | None]


def invalid(what: str, text: str, problem: str, pos: int | None = None, hint: str = "") -> InvalidParameter:
    """The one error shape: ``Invalid filter '<text>': <problem> at column N; <hint>``."""
    shown = text if len(text) <= 300 else text[:297] + "..."
    where = f" at {_position(text, pos)}" if pos is not None else ""
    tail = f"; {hint}" if hint else ""
    return InvalidParameter(f"Invalid {what} '{shown}': {problem}{where}{tail}")


def _position(text: str, pos: int) -> str:
    if "\n" not in text:
        return f"column {pos + 1}"
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column}"


def parse_clauses(text: str, hint: ComparatorHint, ident_example: str) -> list[RawClause]:
    """Parse ``a op b AND c op d ...`` into raw clauses, or raise ``InvalidParameter``.

    Past ``MAX_FILTER_LENGTH`` characters or ``MAX_CLAUSES`` clauses it stops at once; list
    and LIKE pattern sizes are checked on the result."""
    if len(text) > MAX_FILTER_LENGTH:
        raise invalid("filter", text, f"is {len(text)} characters long, more than the limit of {MAX_FILTER_LENGTH}",
                      None, "narrow the search, or split it into several")
    interactive = _parser().parse_interactive(text, start="filter")
    clause_start = 0
    clauses = 1
    try:
        for token in interactive.iter_parse():
            if token.type == "AND":
                clause_start = token.end_pos or 0
                clauses += 1
                if clauses > MAX_CLAUSES:
                    raise invalid("filter", text, f"has more than {MAX_CLAUSES} clauses", clause_start,
                                  "split the search into several, or match a shared tag instead")
        tree = cast("Tree[Token]", interactive.feed_eof())  # type: ignore[no-untyped-call]
    except UnexpectedInput as exc:
        raise _syntax_error("filter", text, exc, clause_start, hint, ident_example) from None
    except LarkError as exc:  # pragma: no cover - lark reports every input error above
        raise invalid("filter", text, f"could not be parsed ({exc})") from None
    raw = [_clause(child) for child in tree.children if isinstance(child, Tree)]
    for clause in raw:
        _check_size(text, clause)
    return raw


def _check_size(text: str, clause: RawClause) -> None:
    value = clause.value
    if value is None:
        return
    if value.kind == "list" and len(value.value) > MAX_LIST_ITEMS:
        raise invalid("filter", text, f"has a list of {len(value.value)} values, more than the limit of "
                      f"{MAX_LIST_ITEMS}", clause.op_pos, "split the search into several")
    if clause.op in ("LIKE", "ILIKE") and len(value.value) > MAX_PATTERN_LENGTH:
        raise invalid("filter", text, f"has a {clause.op} pattern of {len(value.value)} characters, more than the "
                      f"limit of {MAX_PATTERN_LENGTH}", value.pos, "shorten the pattern, or compare with =")


def check_order_by_count(items: object) -> None:
    """Refuse more than ``MAX_ORDER_BY`` order_by keys (each one is a join or a sort key)."""
    if isinstance(items, list | tuple) and len(items) > MAX_ORDER_BY:
        raise InvalidParameter(
            f"Invalid order_by: {len(items)} keys, more than the limit of {MAX_ORDER_BY}; order by fewer keys"
        )


def parse_order_item(text: str, ident_example: str) -> RawOrder:
    """Parse ``<identifier> [ASC|DESC]``, or raise ``InvalidParameter``."""
    try:
        tree = _parser().parse(text, start="order_item")
    except UnexpectedInput as exc:
        raise _syntax_error("order_by item", text, exc, 0, None, ident_example) from None
    except LarkError as exc:  # pragma: no cover
        raise invalid("order_by item", text, f"could not be parsed ({exc})") from None
    ident = _ident(_tree(tree.children[0]))
    direction = tree.children[1] if len(tree.children) > 1 else None
    return RawOrder(ident, ascending=not (isinstance(direction, Token) and direction.type == "DESC"))


def parse_ident(text: str) -> RawIdent | None:
    """The identifier spelled by ``text`` alone, or None if it is not one."""
    try:
        return _ident(_parser().parse(text, start="ident"))
    except LarkError:
        return None


# -- tree to raw clauses ------------------------------------------------------------------


def _clause(tree: Tree[Token]) -> RawClause:
    ident = _ident(_tree(tree.children[0]))
    rest = tree.children[1:]
    words = [c for c in rest if isinstance(c, Token)]
    op_pos = words[0].start_pos or 0
    if tree.data == "binary":
        op_token = words[0]
        op = op_token.value if op_token.type == "SYMBOL_OP" else op_token.type
        return RawClause(ident, op, op_pos, _value(_tree(rest[-1])))
    if tree.data in ("in_list", "not_in_list"):
        op = "IN" if tree.data == "in_list" else "NOT IN"
        return RawClause(ident, op, op_pos, _list(_tree(rest[-1])))
    op = "IS NULL" if tree.data == "is_null" else "IS NOT NULL"
    return RawClause(ident, op, op_pos, None)


def _ident(tree: Tree[Token]) -> RawIdent:
    tokens = [c for c in tree.children if isinstance(c, Token)]
    first = tokens[0]
    pos = first.start_pos or 0
    if tree.data == "quoted_ident":
        return RawIdent(None, _unquote(first.value), pos, first.value)
    if tree.data == "prefixed_ident":
        # metrics.`my key`; also tags.mlflow."x" (the dotted rest joins the quoted key).
        name, quoted = tokens
        prefix, _, rest = name.value.partition(".")
        key = f"{rest}.{_unquote(quoted.value)}" if rest else _unquote(quoted.value)
        return RawIdent(prefix, key, pos, f"{name.value}.{quoted.value}")
    prefix, dot, key = first.value.partition(".")
    return RawIdent(prefix if dot else None, key if dot else prefix, pos, first.value)


def _value(tree: Tree[Token]) -> RawValue:
    token = tree.children[0]
    assert isinstance(token, Token)
    pos = token.start_pos or 0
    if token.type in ("SQ_STRING", "DQ_STRING"):
        return RawValue("string", _unquote(token.value), pos, token.value)
    if token.type == "NUMBER":
        return RawValue("number", token.value, pos, token.value)
    return RawValue("bare", token.value, pos, token.value)


def _list(tree: Tree[Token]) -> RawValue:
    items = tuple(_value(c) for c in tree.children if isinstance(c, Tree))
    pos = items[0].pos if items else 0
    return RawValue("list", items, pos, "(" + ", ".join(i.text for i in items) + ")")


def _tree(node: Tree[Token] | Token) -> Tree[Token]:
    assert isinstance(node, Tree), node
    return node


def _unquote(quoted: str) -> str:
    """Strip the quotes; a doubled quote character inside stands for one."""
    q = quoted[0]
    return quoted[1:-1].replace(q + q, q)


# -- lark errors to one clear line --------------------------------------------------------

_COMPARATORS = "=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL"


def _syntax_error(
    what: str,
    text: str,
    exc: UnexpectedInput,
    clause_start: int,
    hint: ComparatorHint | None,
    ident_example: str,
) -> InvalidParameter:
    expected: set[str]
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos]
        expected = set(exc.allowed or ())
        if char in _QUOTES:
            return invalid(what, text, f"unterminated {_QUOTES[char]} starting with {char}", pos,
                           f"close it with a matching {char}")
        found = f"unexpected '{char}'"
    elif isinstance(exc, UnexpectedToken):
        expected = set(exc.expected or ())
        if exc.token.type == "$END":
            pos = len(text.rstrip())
            found = f"unexpected end of {what}"
        else:
            pos = exc.token.start_pos or 0
            shown = str(exc.token.value)
            found = f"unexpected {shown}" if shown[:1] in _QUOTES else f"unexpected '{shown}'"
            if str(exc.token.value).upper() == "OR" and "AND" in expected:
                return invalid(what, text, "OR is not supported", pos,
                               "join clauses with AND; run one search per alternative instead")
    else:  # pragma: no cover - the LALR parser raises only the two above
        return invalid(what, text, "could not be parsed", None)
    return invalid(what, text, found, pos, _expected(what, expected, text, clause_start, pos, hint, ident_example))


def _expected(
    what: str,
    names: Iterable[str],
    text: str,
    clause_start: int,
    pos: int,
    hint: ComparatorHint | None,
    ident_example: str,
) -> str:
    names = set(names)
    # LALR merges the states after an identifier, so both contexts' lookaheads show up.
    if what == "order_by item":
        if names & {"ASC", "DESC"}:
            return "expected ASC, DESC or the end of the item"
    elif "SYMBOL_OP" in names:
        ident = parse_ident(text[clause_start:pos]) if hint else None
        said = hint(ident) if (hint and ident) else None
        return said or f"expected a comparator: {_COMPARATORS}"
    if "NUMBER" in names:
        return "expected a value: a quoted string such as 'abc' or a number such as 0.5"
    if "NAME_PATH" in names or "BQ_NAME" in names:
        return f"expected an identifier such as {ident_example}"
    if names <= {"AND", "$END"}:
        return "expected AND or the end of the filter"
    if "LPAR" in names:
        return "expected a parenthesized list of quoted strings, e.g. ('a', 'b')"
    if names <= {"COMMA", "RPAR"}:
        return "expected ',' or ')' in the list"
    if names <= {"NULL"}:
        return "expected NULL"
    if names <= {"NULL", "NOT"}:
        return "expected NULL or NOT NULL after IS"
    if names <= {"IN"}:
        return "expected IN after NOT"
    return "expected one of " + ", ".join(sorted(names))

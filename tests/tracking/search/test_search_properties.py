"""The filter parser and its SQL, property-tested with Hypothesis.

* any text at all is either parsed or refused with ``InvalidParameter`` (never another
  exception, which the server would turn into a 500);
* a filter built from random clauses parses back to exactly those clauses, whatever the
  quoting, spacing and case of the keywords;
* on the seeded runs (conftest.py), a random AND of param and tag clauses selects exactly
  the runs a plain Python reference selects, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Engine

from stead.errors import InvalidParameter
from stead.store.tables import runs
from stead.tracking.search import Comparison, apply_run_search, parse_experiment_filter, parse_order_by, parse_run_filter
from stead.tracking.search.grammar import MAX_CLAUSES

from tracking.search.conftest import PARAMS, RUNS, TAGS

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Fragments a filter is made of, so that random text often gets deep into the grammar.
_PIECES = ["metrics.", "params.", "tags.", "attributes.", "datasets.", "run_id", "start_time", "`", "'", '"',
           " AND ", " and ", " OR ", "=", "!=", ">=", "<", " LIKE ", " ILIKE ", " IN ", " NOT IN ", " IS NULL",
           " IS NOT NULL", "(", ")", ",", "%", "_", "\\", "0.5", "-1e308", "1e999", "9" * 30, "NULL", "\n", " "]
TEXT = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(_PIECES) | st.text(max_size=4), max_size=30).map("".join))


def _quote(text: str, q: str = "'") -> str:
    return q + text.replace(q, q + q) + q


@SETTINGS
@given(TEXT)
def test_any_text_is_parsed_or_refused_cleanly(text: str) -> None:
    for parse in (parse_run_filter, parse_experiment_filter):
        try:
            parse(text)
        except InvalidParameter as exc:
            assert exc.message.startswith("Invalid filter")
    try:
        parse_order_by([text])
    except InvalidParameter as exc:
        assert exc.message.startswith("Invalid order_by")


KEY = st.text(alphabet=string.ascii_letters + string.digits + " _-.:/", min_size=1, max_size=12)
VALUE = st.text(max_size=20)
NUMBER = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False))
KIND_WORDS = {"metric": ["metrics", "metric"], "param": ["params", "param", "parameter"], "tag": ["tags", "tag"]}


@st.composite
def clause(draw: st.DrawFn) -> tuple[str, Comparison]:
    kind = draw(st.sampled_from(["metric", "param", "tag"]))
    key = draw(KEY)
    quote = draw(st.sampled_from(["`", '"']))
    ident = f"{draw(st.sampled_from(KIND_WORDS[kind]))}.{_quote(key, quote)}"
    if kind == "metric":
        op = draw(st.sampled_from(["=", "!=", ">", ">=", "<", "<="]))
        number = draw(NUMBER)
        return f"{ident} {op} {number!r}", Comparison("metric", key, op, float(number))
    op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"]))
    if op.startswith("IS"):
        word = draw(st.sampled_from([op, op.lower()]))
        return f"{ident} {word}", Comparison(kind, key, op, None)
    value = draw(VALUE.filter(lambda v: not (op.endswith("LIKE") and re.search(r"(?<!\\)(\\\\)*\\$", v))))
    word = draw(st.sampled_from([op, op.lower()]))
    return f"{ident} {word} {_quote(value)}", Comparison(kind, key, op, value)


@SETTINGS
@given(st.lists(clause(), min_size=1, max_size=8), st.sampled_from([" AND ", " and ", "\nAND\t", "  And  "]))
def test_built_filters_parse_back_to_their_clauses(clauses: list[tuple[str, Comparison]], joiner: str) -> None:
    text = joiner.join(t for t, _ in clauses)
    assert parse_run_filter(text) == [c for _, c in clauses]


def test_too_many_clauses_is_refused_before_parsing_them_all() -> None:
    with pytest.raises(InvalidParameter, match=f"more than {MAX_CLAUSES} clauses"):
        parse_run_filter(" AND ".join(["params.a = 'b'"] * (MAX_CLAUSES + 1)))


# -- the SQL against a Python reference ------------------------------------------------------

_LIVE = [r[0] for r in RUNS if r[1] in (1, 2) and r[7] == "active"]
_SEEDED_KEYS = ["lr", "model", "team", "env", "my tag", "glob", "absent"]
_SEEDED_VALUES = sorted({v for d in (*PARAMS.values(), *TAGS.values()) for v in d.values()})
_PATTERN = st.lists(st.sampled_from(["%", "_", "a", "V", "v", "0", ".", "1", "N", "off", "is", "ion"]),
                    max_size=5).map("".join)


def _like(pattern: str, value: str, fold: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if fold else 0)) is not None


def _matches(run: str, kind: str, key: str, op: str, value: str | None) -> bool:
    have = (PARAMS if kind == "params" else TAGS).get(run, {}).get(key)
    if op == "IS NULL":
        return have is None
    if have is None or value is None:  # a run without the key matches no comparison
        return False
    if op == "=":
        return have == value
    if op == "!=":
        return have != value
    return _like(value, have, fold=op == "ILIKE")


@st.composite
def seeded_clause(draw: st.DrawFn) -> tuple[str, tuple[str, str, str, str | None]]:
    kind = draw(st.sampled_from(["params", "tags"]))
    key = draw(st.sampled_from(_SEEDED_KEYS))
    op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"]))
    if op.startswith("IS"):
        return f"{kind}.`{key}` {op}", (kind, key, op, None)
    value = draw(_PATTERN if op.endswith("LIKE") else st.sampled_from([*_SEEDED_VALUES, "nope", ""]))
    return f"{kind}.`{key}` {op} {_quote(value)}", (kind, key, op, value)


def test_sql_selects_what_the_reference_selects(engine: Engine) -> None:
    base = select(runs.c.run_uuid).where(runs.c.experiment_id.in_([1, 2]), runs.c.lifecycle_stage == "active")

    @SETTINGS
    @given(st.lists(seeded_clause(), min_size=1, max_size=4))
    def check(clauses: list[tuple[str, tuple[str, str, str, str | None]]]) -> None:
        text = " AND ".join(t for t, _ in clauses)
        with engine.connect() as conn:
            found = {row[0] for row in conn.execute(apply_run_search(base, text, None))}
        expected = {r for r in _LIVE if all(_matches(r, *c) if c[2] != "IS NOT NULL"
                                            else not _matches(r, c[0], c[1], "IS NULL", None) for _, c in clauses)}
        assert found == expected, text

    check()

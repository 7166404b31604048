"""Parsing filters and order_by lists into Comparison / OrderKey, and every error message."""

from __future__ import annotations

import random

import pytest

from stead.errors import InvalidParameter
from stead.tracking.search import (
    Comparison,
    OrderKey,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_order_by,
    parse_run_filter,
)
from stead.tracking.search.sqlops import like_to_glob

C = Comparison


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Every prefix spelling.
        ("metrics.acc > 0.9", C("metric", "acc", ">", 0.9)),
        ("metric.acc > 0.9", C("metric", "acc", ">", 0.9)),
        ("params.lr = '0.01'", C("param", "lr", "=", "0.01")),
        ("param.lr = '0.01'", C("param", "lr", "=", "0.01")),
        ("parameters.lr = '0.01'", C("param", "lr", "=", "0.01")),
        ("tags.team = 'a'", C("tag", "team", "=", "a")),
        ("tag.team = 'a'", C("tag", "team", "=", "a")),
        ("attributes.status = 'FAILED'", C("attribute", "status", "=", "FAILED")),
        ("attribute.status = 'FAILED'", C("attribute", "status", "=", "FAILED")),
        ("attr.status = 'FAILED'", C("attribute", "status", "=", "FAILED")),
        ("run.status = 'FAILED'", C("attribute", "status", "=", "FAILED")),
        ("status = 'FAILED'", C("attribute", "status", "=", "FAILED")),
        ("datasets.name = 'train'", C("dataset", "name", "=", "train")),
        # Attribute aliases resolve to the canonical name.
        ("run_uuid = 'abc'", C("attribute", "run_id", "=", "abc")),
        ("attributes.run_id = 'abc'", C("attribute", "run_id", "=", "abc")),
        ("created > 5", C("attribute", "start_time", ">", 5)),
        ("Created > 5", C("attribute", "start_time", ">", 5)),
        ("attributes.`run name` = 'x'", C("attribute", "run_name", "=", "x")),
        ("`Run Name` = 'x'", C("attribute", "run_name", "=", "x")),
        ("run_name = 'x'", C("attribute", "run_name", "=", "x")),
        ("user_id = 'x'", C("attribute", "user_id", "=", "x")),
        ("artifact_uri = 'x'", C("attribute", "artifact_uri", "=", "x")),
        ("lifecycle_stage = 'active'", C("attribute", "lifecycle_stage", "=", "active")),
        ("experiment_id = '3'", C("attribute", "experiment_id", "=", 3)),
        ("experiment_id != 3", C("attribute", "experiment_id", "!=", 3)),
        # Quoted keys: backquotes, double quotes, a dotted key, a doubled quote inside.
        ("metrics.`my-metric` > 1", C("metric", "my-metric", ">", 1.0)),
        ('params."a b" = \'x\'', C("param", "a b", "=", "x")),
        ("metrics.\"2019-04-02 error\" < 1", C("metric", "2019-04-02 error", "<", 1.0)),
        ("tags.`mlflow.user` = 'me'", C("tag", "mlflow.user", "=", "me")),
        ("tags.mlflow.user = 'me'", C("tag", "mlflow.user", "=", "me")),
        ("tags.mlflow.`source.type` = 'x'", C("tag", "mlflow.source.type", "=", "x")),
        ("metrics.`a``b` > 1", C("metric", "a`b", ">", 1.0)),
        ("metrics.acc_top5 > 1", C("metric", "acc_top5", ">", 1.0)),
        # Values: both quote styles, a doubled quote, backslashes kept for LIKE.
        ('tags.t = "double"', C("tag", "t", "=", "double")),
        ("tags.t = 'it''s'", C("tag", "t", "=", "it's")),
        ('tags.t = "say ""hi"""', C("tag", "t", "=", 'say "hi"')),
        ("tags.t = ''", C("tag", "t", "=", "")),
        ("tags.t LIKE '50\\%'", C("tag", "t", "LIKE", "50\\%")),
        ("tags.t = 'AND x = 1'", C("tag", "t", "=", "AND x = 1")),
        # Numbers: ints, floats, scientific, signs.
        ("metrics.m = 3", C("metric", "m", "=", 3.0)),
        ("metrics.m = -3", C("metric", "m", "=", -3.0)),
        ("metrics.m = .5", C("metric", "m", "=", 0.5)),
        ("metrics.m = 5.", C("metric", "m", "=", 5.0)),
        ("metrics.m = 1e-3", C("metric", "m", "=", 0.001)),
        ("metrics.m = -2.5E+2", C("metric", "m", "=", -250.0)),
        ("metrics.m>=-1", C("metric", "m", ">=", -1.0)),
        ("start_time > 1700000000000", C("attribute", "start_time", ">", 1700000000000)),
        ("end_time <= 1.5", C("attribute", "end_time", "<=", 1.5)),
        # Comparators, case-insensitive words.
        ("metrics.m != 1", C("metric", "m", "!=", 1.0)),
        ("metrics.m < 1", C("metric", "m", "<", 1.0)),
        ("metrics.m <= 1", C("metric", "m", "<=", 1.0)),
        ("metrics.m >= 1", C("metric", "m", ">=", 1.0)),
        ("params.p like 'a%'", C("param", "p", "LIKE", "a%")),
        ("params.p ILike 'a%'", C("param", "p", "ILIKE", "a%")),
        ("params.p is null", C("param", "p", "IS NULL", None)),
        ("tags.t IS NOT NULL", C("tag", "t", "IS NOT NULL", None)),
        ("run_id IN ('a', \"b\")", C("attribute", "run_id", "IN", ("a", "b"))),
        ("run_id not in ('a')", C("attribute", "run_id", "NOT IN", ("a",))),
        ("datasets.digest NOT IN ('d1', 'd2')", C("dataset", "digest", "NOT IN", ("d1", "d2"))),
    ],
)
def test_one_clause(text: str, expected: Comparison) -> None:
    assert parse_run_filter(text) == [expected]


def test_clauses_joined_by_and_in_any_case_and_spacing() -> None:
    text = "metrics.acc>0.9 and params.lr='0.01'\n  AnD tags.`x y` IS NULL"
    assert parse_run_filter(text) == [
        C("metric", "acc", ">", 0.9),
        C("param", "lr", "=", "0.01"),
        C("tag", "x y", "IS NULL", None),
    ]


@pytest.mark.parametrize("text", [None, "", "   ", "\n"])
def test_empty_filter_is_no_clause(text: str | None) -> None:
    assert parse_run_filter(text) == []
    assert parse_experiment_filter(text) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.acc ~ 1",
         "Invalid filter 'metrics.acc ~ 1': unexpected '~' at column 13; "
         "comparators for metrics are =, !=, >, >=, <, <="),
        ("metrics.acc == 1", "unexpected '==' at column 13; comparators for metrics are"),
        ("params.p <> 'a'", "unexpected '<>' at column 10; comparators for params are =, !=, LIKE, ILIKE, IS NULL, IS NOT NULL"),
        ("metrics.acc CONTAINS 1", "unexpected 'CONTAINS' at column 13; comparators for metrics are"),
        ("metrics.acc LIKE '1'", "comparator LIKE does not apply to metrics at column 13; comparators for metrics are"),
        ("metrics.acc IS NULL", "comparator IS NULL does not apply to metrics at column 13"),
        ("start_time LIKE '1%'", "comparator LIKE does not apply to start_time at column 12; comparators for start_time are =, !=, >, >=, <, <="),
        ("status > 'A'", "comparator > does not apply to status at column 8; comparators for status are =, !=, LIKE, ILIKE"),
        ("status IN ('A')", "comparator IN does not apply to status at column 8; comparators for status are =, !=, LIKE, ILIKE (only run_id takes a list)"),
        ("params.p IN ('a')", "comparator IN does not apply to params at column 10"),
        ("tags.t NOT IN ('a')", "comparator NOT IN does not apply to tags at column 8"),
        ("datasets.name IS NULL", "comparator IS NULL does not apply to datasets"),
        ("metrics.acc > 'high'", "value 'high' is not a number at column 15; metrics compare to numbers, e.g. metrics.acc > 0.9"),
        ("metrics.acc > high", "value high is not a number at column 15"),
        ("end_time < 'x'", "value 'x' is not a number at column 12; end_time compare to numbers"),
        ("params.lr = 0.01", "value 0.01 is not a quoted string at column 13; params compare to quoted strings, e.g. params.lr = '0.01'"),
        ("tags.t = abc", "value abc (unquoted) is not a quoted string at column 10"),
        ("tags.t = NULL", "value NULL (unquoted) is not a quoted string at column 10; use tags.t IS NULL"),
        ("experiment_id = 'abc'", "value 'abc' is not an experiment id at column 17"),
        ("run_id IN ()", "empty list at column 8"),
        ("run_id IN ('a', 2)", "list item 2 is not a quoted string at column 17"),
        ("run_id IN 'a'", "unexpected 'a' at column 11; expected a parenthesized list of quoted strings"),
        ("run_id IN ('a' 'b')", "unexpected 'b' at column 16; expected ',' or ')' in the list"),
        ("params.p LIKE 'a\\'", "pattern 'a\\' ends with the escape character \\ at column 15"),
        ("nope = 'x'", "unknown attribute 'nope' at column 1; attributes are artifact_uri, end_time, experiment_id, "
         "lifecycle_stage, run_id, run_name, start_time, status, user_id; for a logged value write metrics.nope"),
        ("attributes.acc > 1", "unknown attribute 'acc' at column 1"),
        ("metrix.acc > 1", "unknown prefix 'metrix' at column 1; use metrics., params., tags., attributes. or datasets."),
        ("METRICS.acc > 1", "unknown prefix 'METRICS' at column 1"),
        ("datasets.size = 'x'", "unknown dataset field 'size' at column 1; dataset fields are name, digest, context"),
        ("tags.`` = 'x'", "empty key in 'tags.``' at column 1"),
        ("metrics.a > 1 OR metrics.b < 2", "OR is not supported at column 15; join clauses with AND"),
        ("metrics.a > 1 AND", "unexpected end of filter at column 18; expected an identifier such as metrics.acc"),
        ("metrics.a > 1 metrics.b < 2", "unexpected 'metrics.b' at column 15; expected AND or the end of the filter"),
        ("metrics.a >", "unexpected end of filter at column 12; expected a value"),
        ("metrics.a", "unexpected end of filter at column 10; comparators for metrics are"),
        ("params.p IS", "unexpected end of filter at column 12; expected NULL or NOT NULL after IS"),
        ("params.p IS NOT 'a'", "unexpected 'a' at column 17; expected NULL"),
        ("params.p NOT LIKE 'a'", "unexpected 'LIKE' at column 14; expected IN after NOT"),
        ("tags.t = 'abc", "unterminated string starting with ' at column 10; close it with a matching '"),
        ('tags.t = "abc', 'unterminated string starting with " at column 10'),
        ("tags.`abc = 'x'", "unterminated quoted name starting with ` at column 6"),
        ("(metrics.a > 1)", "unexpected '(' at column 1; expected an identifier"),
        ("metrics.a > 1;", "unexpected ';' at column 14"),
        ("metrics.a > 1\nAND metrics.b ~ 2", "unexpected '~' at line 2, column 15; comparators for metrics are"),
    ],
)
def test_run_filter_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_run_filter(text)
    assert message in str(info.value)
    assert str(info.value).startswith(f"Invalid filter '{text}': ")
    assert info.value.code == "INVALID_PARAMETER_VALUE"


def test_a_non_string_filter_is_invalid() -> None:
    with pytest.raises(InvalidParameter, match="expected a string"):
        parse_run_filter(42)  # type: ignore[arg-type]


def test_no_lark_exception_escapes_on_random_input() -> None:
    pieces = ["metrics.", "params.", "tags.", "acc", "`k`", '"k"', "'v'", "1", "-2.5e3", "=", "!=",
              "<", ">=", "~", "LIKE", "ILIKE", "IN", "NOT", "IS", "NULL", "AND", "OR", "(", ")", ",",
              " ", " ", ".", "'", '"', "`", "\\", "\n", "é", "status", "run_id"]
    rng = random.Random(1234)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 9)))
        try:
            parse_run_filter(text)
            parse_experiment_filter(text)
        except InvalidParameter:
            pass
        try:
            parse_order_by([text])
        except InvalidParameter:
            pass


# -- order_by -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("metrics.acc DESC", OrderKey("metric", "acc", False)),
        ("metrics.acc desc", OrderKey("metric", "acc", False)),
        ("params.lr", OrderKey("param", "lr", True)),
        ("params.lr ASC", OrderKey("param", "lr", True)),
        ("attributes.start_time ASC", OrderKey("attribute", "start_time", True)),
        ("start_time", OrderKey("attribute", "start_time", True)),
        ("created DESC", OrderKey("attribute", "start_time", False)),
        ("tags.team", OrderKey("tag", "team", True)),
        ("tags.`mlflow.runName` DESC", OrderKey("tag", "mlflow.runName", False)),
        ("metrics.`f1 score` DESC", OrderKey("metric", "f1 score", False)),
        ("run_id", OrderKey("attribute", "run_id", True)),
        ("  end_time   desc ", OrderKey("attribute", "end_time", False)),
    ],
)
def test_order_item(item: str, expected: OrderKey) -> None:
    assert parse_order_by([item]) == [expected]


def test_order_by_keeps_the_given_order() -> None:
    assert parse_order_by(["metrics.acc DESC", "params.lr", "status"]) == [
        OrderKey("metric", "acc", False),
        OrderKey("param", "lr", True),
        OrderKey("attribute", "status", True),
    ]
    assert parse_order_by(None) == []
    assert parse_order_by([]) == []


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["metrics.acc SIDEWAYS"], "Invalid order_by item 'metrics.acc SIDEWAYS': unexpected 'SIDEWAYS' at column 13; expected ASC, DESC"),
        (["metrics.acc DESC ASC"], "unexpected 'ASC' at column 18"),
        (["metrics.acc > 1"], "unexpected '>' at column 13; expected ASC, DESC"),
        ([""], "unexpected end of order_by item at column 1; expected an identifier"),
        (["datasets.name"], "cannot order by datasets at column 1; order by attributes, metrics, params, tags"),
        (["nope"], "unknown attribute 'nope' at column 1"),
        (["metrics.acc", "metrics.acc DESC"], "Invalid order_by item 'metrics.acc DESC': repeats a key already in order_by"),
        (["created", "start_time DESC"], "repeats a key already in order_by"),
        ([3], "Invalid order_by item 3: expected a string"),
    ],
)
def test_order_by_errors(items: list[str], message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_order_by(items)
    assert message in str(info.value)


# -- experiments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'x'", C("attribute", "name", "=", "x")),
        ("attributes.name LIKE 'x%'", C("attribute", "name", "LIKE", "x%")),
        ("attribute.name ILIKE 'x%'", C("attribute", "name", "ILIKE", "x%")),
        ("creation_time > 5", C("attribute", "creation_time", ">", 5)),
        ("last_update_time <= 5", C("attribute", "last_update_time", "<=", 5)),
        ("tags.group != 'x'", C("tag", "group", "!=", "x")),
        ("tag.`my group` IS NULL", C("tag", "my group", "IS NULL", None)),
        ("tags.group IS NOT NULL", C("tag", "group", "IS NOT NULL", None)),
    ],
)
def test_experiment_clause(text: str, expected: Comparison) -> None:
    assert parse_experiment_filter(text) == [expected]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.acc > 1", "unknown prefix 'metrics' at column 1; use attributes. or tags."),
        ("experiment_id = '1'", "unknown attribute 'experiment_id' at column 1; attributes are creation_time, last_update_time, name"),
        ("name IN ('a')", "comparator IN does not apply to name at column 6; comparators for name are =, !=, LIKE, ILIKE"),
        ("name ~ 'a'", "unexpected '~' at column 6; comparators for name are =, !=, LIKE, ILIKE"),
        ("creation_time LIKE '1%'", "comparator LIKE does not apply to creation_time"),
        ("tags.t > 'a'", "comparator > does not apply to tags at column 8"),
        ("name = 1", "value 1 is not a quoted string at column 8"),
    ],
)
def test_experiment_filter_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_experiment_filter(text)
    assert message in str(info.value)


def test_experiment_order_by() -> None:
    assert parse_experiment_order_by(["name", "creation_time DESC", "experiment_id"]) == [
        OrderKey("attribute", "name", True),
        OrderKey("attribute", "creation_time", False),
        OrderKey("attribute", "experiment_id", True),
    ]
    with pytest.raises(InvalidParameter, match="cannot order by tags"):
        parse_experiment_order_by(["tags.team"])


# -- LIKE to GLOB (SQLite) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("like", "glob"),
    [
        ("abc", "abc"),
        ("a%b_c", "a*b?c"),
        ("50\\%\\_off", "50%_off"),
        ("a*b?c[d]", "a[*]b[?]c[[]d]"),
        ("back\\\\slash", "back\\slash"),
        ("\\a", "a"),
    ],
)
def test_like_to_glob(like: str, glob: str) -> None:
    assert like_to_glob(like) == glob


def test_like_to_glob_rejects_a_trailing_escape() -> None:
    with pytest.raises(InvalidParameter, match="ends with the escape character"):
        like_to_glob("abc\\")

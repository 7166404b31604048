"""Profiles, expectations and version diffs as pure functions over pyarrow tables, and
validation from a pipeline step through the Python API."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import stead.data
from data_files import make_files
from stead.data.diff import diff_profiles
from stead.data.profile import profile_table
from stead.data.validate import check_table, load_expectations
from stead.errors import InvalidParameter, InvalidState


def _table() -> pa.Table:
    return pa.table({"x": [1.0, 2.0, None, 4.0], "c": ["a", "a", "b", None], "flag": [True, False, True, True]})


def test_profile_columns() -> None:
    p = profile_table(_table())
    x, c = p["columns"]["x"], p["columns"]["c"]
    assert p["rows"] == 4 and x["null_fraction"] == 0.25 and x["min"] == 1.0 and x["max"] == 4.0
    assert sum(x["histogram"]["counts"]) == 3
    assert c["top"][0] == ["a", 2] and c["distinct"] == 2
    assert p["columns"]["flag"]["top"][0] == ["True", 3]


def test_expectations() -> None:
    exp = load_expectations({"columns": {"x": {"not_null": True, "min": 0, "max": 3}, "c": {"unique": True}}, "strict_columns": True})
    failed = {(k.check, k.column) for k in check_table(_table(), exp, "t") if not k.ok}
    assert failed == {("not_null", "x"), ("range", "x"), ("unique", "c"), ("strict_columns", None)}
    with pytest.raises(InvalidParameter, match="Unknown expectation"):
        load_expectations({"colums": {}})


def test_profile_diff_finds_schema_and_shift() -> None:
    a = profile_table(pa.table({"x": [1, 2, 3, 4]}))
    b = profile_table(pa.table({"x": [10.0, 20.0, 30.0, 40.0], "y": [1, 2, 3, 4]}))
    schema, shifts = diff_profiles("f", a, b)
    assert {s["change"] for s in schema} == {"added", "type"}
    assert any(s["metric"] == "mean" for s in shifts)


def test_validate_from_a_pipeline_step(project) -> None:
    root = make_files(Path.cwd() / "tables", {})
    root.mkdir(exist_ok=True)
    pq.write_table(pa.table({"id": [1, 2, 3], "score": [0.1, 0.5, 0.9]}), root / "t.parquet")
    stead.data.add("tables", "tables", settings=project)
    ok = stead.data.validate("tables@1", {"columns": {"score": {"type": "float", "min": 0, "max": 1}}}, settings=project)
    assert ok.ok
    with pytest.raises(InvalidState, match="failed validation"):
        stead.data.validate("tables@1", {"row_count": {"min": 5}}, raise_on_failure=True, settings=project)

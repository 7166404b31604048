"""The MLflow scoring decoder (a pure function) on bodies no table can come from: each is a
``BadRequest`` with a clear message, never another exception."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stead.errors import BadRequest
from stead.serving.inputs import check_columns
from stead.serving.scoring import decode_invocation

SPECS = (("a", "long", True), ("b", "double", True))


def test_json_nested_thousands_deep() -> None:
    for key in ("inputs", "instances", "dataframe_records"):
        body = b'{"%s": ' % key.encode() + b"[" * 5000 + b"]" * 5000 + b"}"
        with pytest.raises(BadRequest, match="nested too deeply"):
            decode_invocation(body, "application/json")


@pytest.mark.parametrize("body", [
    {"dataframe_split": {"columns": ["a", "b"], "data": [[2**70, 1.0]]}},
    {"dataframe_split": {"columns": ["a", "b"], "data": [[[[1]], 1.0]]}},
    {"inputs": {"a": [[[[[[1]]]]]] * 2, "b": [1.0]}},
    {"instances": [[1.5, 1]]},
])
def test_values_no_column_can_hold_are_named(body: dict) -> None:
    try:
        inputs = decode_invocation(json.dumps(body).encode(), "application/json")
    except BadRequest:
        return
    with pytest.raises(BadRequest) as info:
        check_columns(SPECS, inputs)
    assert info.value.details["fields"], info.value.message


def test_rows_keep_each_columns_own_type() -> None:
    body = {"dataframe_split": {"columns": ["n", "x", "flag", "s"], "data": [[3, 2.5, True, "a"], [4, 1, False, "b"]]}}
    inputs = decode_invocation(json.dumps(body).encode(), "application/json")
    assert inputs.matrix is None or inputs.matrix.dtype.kind in "OU"
    kinds = [c.dtype.kind for c in inputs.typed_columns()]
    assert kinds[:3] == ["i", "f", "b"] and kinds[3] in "OU"
    numeric = decode_invocation(json.dumps({"instances": [[3, 2.5, True]]}).encode(), "application/json")
    assert numeric.matrix is not None and numeric.matrix.dtype == np.float64  # one block for an all-float model
    assert [c.dtype.kind for c in numeric.typed_columns()] == ["i", "f", "b"]

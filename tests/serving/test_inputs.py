"""check_columns, the signature check of every request (a pure function): the one-block fast
path, and one named problem per bad field when the block does not fit."""

from __future__ import annotations

import numpy as np
import pytest

from stead.errors import BadRequest
from stead.serving.inputs import Inputs, check_columns

SPECS = (("age", "double", True), ("tenure", "double", True), ("spend", "double", True))


def test_a_float_block_in_signature_order_is_the_model_input_itself() -> None:
    block = np.arange(6, dtype=np.float64).reshape(2, 3)
    assert check_columns(SPECS, Inputs.from_matrix(block)) is block
    assert check_columns(SPECS, Inputs.from_matrix(block, ["age", "tenure", "spend"])) is block


def test_an_integer_block_becomes_floats() -> None:
    out = check_columns(SPECS, Inputs.from_matrix(np.arange(6).reshape(2, 3)))
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_a_block_of_the_wrong_width_names_the_columns_wanted() -> None:
    with pytest.raises(BadRequest) as info:
        check_columns(SPECS, Inputs.from_matrix(np.zeros((1, 2))))
    assert info.value.details["fields"] == [
        {"name": "input", "problem": "has 2 columns but the signature wants 3: age, tenure, spend"}]


def test_named_columns_out_of_order_are_reordered() -> None:
    inputs = Inputs(["spend", "age", "tenure"], [np.array([3.0]), np.array([1.0]), np.array([2.0])], 1)
    out = check_columns(SPECS, inputs)
    assert isinstance(out, np.ndarray) and out.tolist() == [[1.0, 2.0, 3.0]]


def test_floats_for_an_integer_column_are_named_unless_whole() -> None:
    specs = (("age", "long", True), ("tenure", "double", True))
    with pytest.raises(BadRequest) as info:
        check_columns(specs, Inputs.from_matrix(np.array([[1.5, 2.0]])))
    assert info.value.details["fields"] == [{"name": "age", "problem": "is float64 with a value that is not a "
                                                                       "whole number (1.5) but the signature wants long"}]
    block = np.array([[3.0, 2.5], [4.0, 1.0]])  # 3.0 is what many JSON writers send for 3
    assert check_columns(specs, Inputs.from_matrix(block)) is block


def test_columns_of_a_block_are_views_made_on_demand() -> None:
    block = np.arange(6, dtype=np.float64).reshape(2, 3)
    inputs = Inputs.from_matrix(block)
    assert inputs.width == 3 and [c.tolist() for c in inputs.columns] == [[0, 3], [1, 4], [2, 5]]
    assert all(np.shares_memory(c, block) for c in inputs.columns)

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stead.errors import InvalidParameter
from stead.models.signature import (
    ColSpec,
    ModelSignature,
    Schema,
    TensorSpec,
    enforce_schema,
    infer_schema,
    infer_signature,
)


def test_infer_from_dataframe_uses_mlflow_types() -> None:
    df = pd.DataFrame({
        "f64": [1.0], "f32": np.array([1.0], dtype="float32"), "i64": [1],
        "i32": np.array([1], dtype="int32"), "b": [True], "s": ["x"],
    })
    schema = infer_schema(df)
    assert [(c.name, c.type) for c in schema.inputs] == [
        ("f64", "double"), ("f32", "float"), ("i64", "long"), ("i32", "integer"), ("b", "boolean"), ("s", "string"),
    ]


def test_infer_from_numpy_uses_batch_dimension() -> None:
    schema = infer_schema(np.zeros((5, 3, 2), dtype="float32"))
    assert schema.inputs == (TensorSpec("float32", (-1, 3, 2)),)
    named = infer_schema({"x": np.zeros((4, 2)), "y": np.zeros(4, dtype="int64")})
    assert named.inputs == (TensorSpec("float64", (-1, 2), "x"), TensorSpec("int64", (-1,), "y"))


def test_json_matches_mlflow_format_and_round_trips() -> None:
    sig = ModelSignature(
        Schema((ColSpec("double", "a"), ColSpec("string", "b", required=False))),
        Schema((TensorSpec("int64", (-1,)),)),
    )
    d = sig.to_dict()
    assert d["inputs"] == (
        '[{"type": "double", "name": "a", "required": true}, {"type": "string", "name": "b", "required": false}]'
    )
    assert d["outputs"] == '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
    assert d["params"] is None
    assert ModelSignature.from_dict(d) == sig


def test_composite_column_types_are_kept_verbatim() -> None:
    text = '[{"type": "array", "items": {"type": "string"}, "name": "tags", "required": true}]'
    schema = Schema.from_json(text)
    assert schema.to_json() == text


def test_one_message_names_missing_extra_and_mistyped_columns() -> None:
    schema = infer_schema(pd.DataFrame({"age": [1.0], "visits": [1], "city": ["x"]}))
    bad = pd.DataFrame({"age": ["old"], "city": [3], "zip": ["z"]})
    with pytest.raises(InvalidParameter) as err:
        enforce_schema(schema, bad)
    msg = str(err.value)
    assert "missing column(s) 'visits'" in msg
    assert "unexpected column(s) 'zip'" in msg
    assert "column 'age'" in msg and "wants double" in msg
    assert "column 'city'" in msg and "wants string" in msg
    assert len(err.value.details["problems"]) == 4


def test_int_to_float_is_a_safe_conversion() -> None:
    schema = Schema((ColSpec("double", "x"), ColSpec("long", "n")))
    out = enforce_schema(schema, pd.DataFrame({"x": [1, 2], "n": np.array([3, 4], dtype="int32")}))
    assert out["x"].dtype == np.float64 and out["n"].dtype == np.int64


def test_float_to_int_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="column 'n' is float64 but the signature wants long"):
        enforce_schema(Schema((ColSpec("long", "n"),)), pd.DataFrame({"n": [1.5]}))


def test_records_and_dicts_are_accepted() -> None:
    schema = Schema((ColSpec("double", "a"), ColSpec("string", "b")))
    assert list(enforce_schema(schema, [{"a": 1, "b": "x"}]).columns) == ["a", "b"]
    assert list(enforce_schema(schema, {"a": [1.0], "b": ["x"]}).columns) == ["a", "b"]


def test_tensor_shape_and_dtype_are_checked() -> None:
    schema = Schema((TensorSpec("float32", (-1, 2)),))
    assert enforce_schema(schema, np.ones((3, 2), dtype="int8")).dtype == np.float32
    with pytest.raises(InvalidParameter, match="shape"):
        enforce_schema(schema, np.ones((3, 4), dtype="float32"))
    with pytest.raises(InvalidParameter, match="float64 but the signature wants float32"):
        enforce_schema(schema, np.full((1, 2), 0.1))


def test_named_tensors_report_missing_and_extra() -> None:
    schema = Schema((TensorSpec("float64", (-1,), "x"), TensorSpec("float64", (-1,), "y")))
    with pytest.raises(InvalidParameter) as err:
        enforce_schema(schema, {"x": np.ones(2), "z": np.ones(2)})
    assert "missing tensor(s) 'y'" in str(err.value) and "unexpected tensor(s) 'z'" in str(err.value)


def test_infer_signature_with_outputs() -> None:
    sig = infer_signature(pd.DataFrame({"a": [1.0]}), np.array([1]))
    assert sig.outputs == Schema((TensorSpec("int64", (-1,)),))


@pytest.mark.parametrize("text", ["not json", '{"a": 1}', '[{"type": "nonsense"}]', "[]",
                                  '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": "x"}}]'])
def test_hostile_schema_json_is_refused(text: str) -> None:
    with pytest.raises(InvalidParameter):
        Schema.from_json(text)

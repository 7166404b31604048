"""Decoding a window of the prediction log: the bulk path for what `stead serve` writes gives
the same table as the request-by-request path, which still takes every other shape."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from stead.artifacts import open_artifact_store
from stead.monitoring import sources
from stead.monitoring.sources import decode_requests, log_window, read_window
from stead.serving.prediction_log import PredictionLog


def _log(inputs: list[Any], outputs: list[Any]) -> pa.Table:
    n = len(inputs)
    return pa.table({
        "time": pa.array([(i + 1) * 1_000_000 for i in range(n)], pa.timestamp("us", tz="UTC")),
        "request_id": [f"r{i}" for i in range(n)], "variant": ["primary"] * n, "model_version": ["3"] * n,
        "inputs": [v if isinstance(v, str) or v is None else json.dumps(v) for v in inputs],
        "outputs": [v if isinstance(v, str) or v is None else json.dumps(v) for v in outputs],
    })


def _both(table: pa.Table, **options: Any) -> tuple[pa.Table | None, pa.Table]:
    return sources._decode_columnar(table, options.get("prediction")), sources._decode_each(table, **options)


def test_columnar_log_is_decoded_in_bulk_to_the_same_table() -> None:
    """Several rows per request, null values, a list-valued output (probabilities: not a column)."""
    table = _log(
        [{"age": [30, 41], "plan": ["basic", None]}, {"age": [None], "plan": ["pro"]},
         {"age": [52, 63, 70], "plan": ["plus", "basic", "pro"]}],
        [{"predict": [0, 1], "predict_proba": [[0.9, 0.1], [0.2, 0.8]]}, {"predict": [1], "predict_proba": [[0.3, 0.7]]},
         {"predict": [0, None, 1], "predict_proba": [[0.6, 0.4], [0.5, 0.5], [0.1, 0.9]]}])
    fast, slow = _both(table, prediction="churned")
    assert fast is not None and fast.equals(slow)
    assert fast.column_names == ["age", "plan", "churned", "request_time", "request_id", "variant", "model_version"]
    assert fast.column("age").to_pylist() == [30, 41, None, 52, 63, 70]
    assert fast.column("churned").to_pylist() == [0, 1, 1, 0, None, 1]
    assert fast.column("request_id").to_pylist() == ["r0", "r0", "r1", "r2", "r2", "r2"]
    assert fast.schema.field("request_time").type == pa.timestamp("us", tz="UTC")
    assert decode_requests(table, prediction="churned").equals(slow)


def test_several_outputs_keep_their_names_and_an_output_named_like_an_input_is_left_out() -> None:
    table = _log([{"x": [1.5, 2.5]}, {"x": [3.5]}],
                 [{"predict": [1, 0], "score": [0.7, 0.2], "x": [9, 9]}, {"predict": [1], "score": [0.9], "x": [9]}])
    fast, slow = _both(table)
    assert fast is not None and fast.equals(slow)
    assert fast.column_names[:3] == ["x", "predict", "score"] and fast.column("x").to_pylist() == [1.5, 2.5, 3.5]


@pytest.mark.parametrize("inputs, outputs", [
    pytest.param([{"age": [1]}, {"plan": ["pro"]}], [{"p": [0]}, {"p": [1]}], id="a column missing in one request"),
    pytest.param([{"age": [1], "plan": ["a"]}, {"plan": ["b"], "age": [2]}], [{"p": [0]}, {"p": [1]}], id="key order"),
    pytest.param([{"age": [1, 2]}, [{"age": 3}]], [{"p": [0, 1]}, {"p": [1]}], id="records"),
    pytest.param([[[1, "a"]], [[2, "b"]]], [{"p": [0]}, {"p": [1]}], id="positional rows"),
    pytest.param([{"age": [1]}, "{not json"], [{"p": [0]}, {"p": [1]}], id="invalid JSON"),
    pytest.param([{"age": [1]}, None], [{"p": [0]}, {"p": [1]}], id="null inputs"),
    pytest.param([{"age": [1]}, {"age": [2]}], [{"p": [0]}, None], id="null outputs"),
    pytest.param([{"age": [1]}, {"age": [2]}], [[0], [1]], id="outputs as a list"),
    pytest.param([{"age": [1, 2], "plan": ["a"]}, {"age": [3], "plan": ["b"]}], [{"p": [0, 1]}, {"p": [1]}],
                 id="uneven columns"),
    pytest.param([{"age": [1]}, {"age": []}], [{"p": [0]}, {"p": []}], id="a request without rows"),
    pytest.param([{"age": 1}, {"age": 2}], [{"p": [0]}, {"p": [1]}], id="scalar values"),
    pytest.param([{"inputs": {"age": [1]}}, {"inputs": {"age": [2]}}], [{"p": [0]}, {"p": [1]}], id="wrapped"),
    pytest.param([{"age": [1]}, {"age": [[2, 3]]}], [{"p": [0]}, {"p": [1]}], id="a list among scalars"),
    pytest.param([{"age": [1]}, {"age": [2]}], [{"p": [0]}, {"p": [1, 1]}], id="output rows differ"),
    pytest.param([{"age": [1]}, {"age": [True]}], [{"p": [0]}, {"p": [1]}], id="mixed kinds"),
    pytest.param([{"age": [1]}, '{"age": [NaN]}'], [{"p": [0]}, {"p": [1]}], id="NaN"),
])
def test_other_shapes_take_the_request_by_request_path(inputs: list[Any], outputs: list[Any]) -> None:
    table = _log(inputs, outputs)
    assert sources._decode_columnar(table, None) is None
    decoded, each = decode_requests(table, names=["age", "plan"]), sources._decode_each(table, names=["age", "plan"])
    assert decoded.schema == each.schema and repr(decoded.to_pylist()) == repr(each.to_pylist())  # NaN != NaN


def test_a_missing_column_is_missing_for_that_request_rows() -> None:
    table = _log([{"age": [1, 2], "plan": ["a", "b"]}, {"age": [3]}], [{"p": [0, 1]}, {"p": [1]}])
    decoded = decode_requests(table)
    assert decoded.column("plan").to_pylist() == ["a", "b", None]
    assert decoded.column("age").to_pylist() == [1, 2, 3]


def test_empty_window() -> None:
    assert decode_requests(_log([], [])).num_rows == 0


def test_a_served_log_reads_the_same_either_way(tmp_path: Any) -> None:
    """What PredictionLog writes, read back through log_window with only the columns asked for."""
    artifacts = open_artifact_store(str(tmp_path / "artifacts"))
    log = PredictionLog(artifacts, "churn", flush_rows=10_000, flush_s=3600)
    for i in range(50):
        log.record("primary" if i % 3 else "canary", "2", "rest", f"q{i}", 0.001,
                   {"age": [20 + i] * (1 + i % 3), "plan": [None if i % 5 == 0 else "pro"] * (1 + i % 3)},
                   {"predict": [i % 2] * (1 + i % 3), "predict_proba": [[0.4, 0.6]] * (1 + i % 3)})
    log.record("primary", "2", "rest", "shadowed", 0.001, {"age": [1]}, {"predict": [0]}, shadow=True)
    log.record("primary", "2", "rest", "failed", 0.001, {"age": [1]}, None, status=500)
    log.close()
    window = read_window(artifacts, "churn", 0, 4e9)
    assert window.num_rows == 50
    fast, slow = _both(window)
    assert fast is not None and fast.equals(slow) and fast.num_rows == sum(1 + i % 3 for i in range(50))
    only = log_window(artifacts, "churn", 0, 4e9, columns=["request_id"], variant="canary")
    assert only.column_names == ["request_id"]
    assert only.column("request_id").to_pylist() == [f"q{i}" for i in range(0, 50, 3)]
    assert log_window(artifacts, "churn", 0, 1, columns=["inputs"]).num_rows == 0

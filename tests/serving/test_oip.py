"""The V2 tensor codec (pure functions): JSON and binary tensor data, every datatype, and
requests that are wrong in every way a client can get them wrong (each a ``BadRequest``)."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest

from stead.errors import BadRequest
from stead.serving.oip import decode_infer, encode_infer

NUMERIC = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
           "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
           "FP16": np.float16, "FP32": np.float32, "FP64": np.float64}


def _binary_body(tensors: list[tuple[str, str, list[int], bytes]], **extra: Any) -> tuple[bytes, int]:
    header = {"inputs": [{"name": n, "shape": s, "datatype": d, "parameters": {"binary_data_size": len(raw)}}
                         for n, d, s, raw in tensors], **extra}
    head = json.dumps(header).encode()
    return head + b"".join(raw for *_, raw in tensors), len(head)


def _bad(body: bytes | dict[str, Any], header_length: int | None = None) -> BadRequest:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    with pytest.raises(BadRequest) as info:
        decode_infer(raw, None, header_length)
    return info.value


@pytest.mark.parametrize("datatype", sorted(NUMERIC))
def test_every_numeric_datatype_as_binary_data(datatype: str) -> None:
    arr = (np.arange(6) % 2 == 1) if datatype == "BOOL" else np.arange(6).astype(NUMERIC[datatype])
    body, n = _binary_body([("x", datatype, [2, 3], arr.astype(arr.dtype.newbyteorder("<")).tobytes())])
    got = decode_infer(body, None, n).inputs.matrix
    assert got is not None and got.dtype == arr.dtype and got.tolist() == arr.reshape(2, 3).tolist()


def test_bytes_and_bf16_as_binary_data() -> None:
    words = [b"", b"churn", "caf\u00e9".encode()]
    raw = b"".join(struct.pack("<I", len(w)) + w for w in words)
    bf16 = (np.array([1.5, -2.0, 3.25], dtype=np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
    body, n = _binary_body([("s", "BYTES", [3], raw), ("h", "BF16", [3], bf16)])
    inputs = decode_infer(body, None, n).inputs
    assert inputs.names == ["s", "h"]
    assert inputs.columns[0].tolist() == words and inputs.columns[1].tolist() == [1.5, -2.0, 3.25]


def test_json_and_binary_tensors_mix_in_one_request() -> None:
    head = {"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1.5, 2.5]},
                       {"name": "b", "shape": [2], "datatype": "INT32", "parameters": {"binary_data_size": 8}}]}
    raw = json.dumps(head).encode()
    inputs = decode_infer(raw + np.array([7, 8], "<i4").tobytes(), None, len(raw)).inputs
    assert [c.tolist() for c in inputs.columns] == [[1.5, 2.5], [7, 8]]


def test_binary_outputs_when_asked_for_all_or_by_name() -> None:
    outputs = {"predict": np.array([1, 0]), "label": np.array(["yes", "no"], dtype=object)}
    for extra, binary in [({"parameters": {"binary_data_output": True}}, {"predict", "label"}),
                          ({"outputs": [{"name": "predict", "parameters": {"binary_data": True}},
                                        {"name": "label"}]}, {"predict"}),
                          ({}, set())]:
        body = json.dumps({"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}], **extra})
        request = decode_infer(body.encode(), None)
        assert request.inputs.params is None  # protocol parameters are not the model's
        out, n = encode_infer("m", "1", "id", outputs, request=request)
        head = json.loads(out[:n] if n is not None else out)
        assert {o["name"] for o in head["outputs"] if "parameters" in o} == binary
        if "predict" in binary:
            assert out[n:n + 16] == np.array([1, 0], "<i8").tobytes()
        if "label" in binary:
            assert out.endswith(struct.pack("<I", 3) + b"yes" + struct.pack("<I", 2) + b"no")


@pytest.mark.parametrize(("tensor", "problem"), [
    ({"shape": [1], "datatype": "INT8", "data": [300]}, "out of range for INT8"),
    ({"shape": [1], "datatype": "UINT8", "data": [-1]}, "out of range for UINT8"),
    ({"shape": [1], "datatype": "INT64", "data": [2**64]}, "data is not INT64"),
    ({"shape": [1], "datatype": "UINT64", "data": [2**70]}, "data is not UINT64"),
    ({"shape": [1], "datatype": "INT32", "data": [1.5]}, "data is not INT32"),
    ({"shape": [1], "datatype": "FP32", "data": [1e39]}, "out of range for FP32"),
    ({"shape": [1], "datatype": "FP16", "data": [70000]}, "out of range for FP16"),
    ({"shape": [1], "datatype": "FP64", "data": ["NaN"]}, "data is not FP64"),
    ({"shape": [1], "datatype": "FP64", "data": [True]}, "data is not FP64"),
    ({"shape": [1], "datatype": "BOOL", "data": [1]}, "data is not BOOL"),
    ({"shape": [1], "datatype": "BYTES", "data": [1]}, "data is not BYTES"),
    ({"shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3]}, "data does not match shape"),
    ({"shape": [2], "datatype": "FP64", "data": [[1, 2], [3]]}, "data is not FP64"),
    ({"shape": [-1, 2], "datatype": "FP64", "data": [1, 2]}, "bad shape"),
    ({"shape": [2**40, 2**40], "datatype": "FP64", "data": [1]}, "bad shape"),
    ({"shape": [1] * 100, "datatype": "FP64", "data": [1]}, "bad shape"),
    ({"shape": [1], "datatype": "FP64"}, "no data"),
    ({"shape": [1], "datatype": "FP64", "data": None}, "no data"),
    ({"shape": [1], "datatype": "FP64", "data": [1], "parameters": {"shared_memory_region": "r"}}, "shared memory"),
])
def test_a_bad_tensor_is_named_with_its_problem(tensor: dict[str, Any], problem: str) -> None:
    err = _bad({"inputs": [{"name": "x", **tensor}]})
    assert err.details["fields"][0]["name"] == "x" and problem in err.details["fields"][0]["problem"], err.message


def test_json_numbers_beyond_any_float_and_json_nested_thousands_deep() -> None:
    assert "out of range" in _bad(b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1e400]}]}'
                                  ).message.lower()
    deep = b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}]}"
    assert "nested too deeply" in _bad(deep).message
    data = "[" * 100 + "1" + "]" * 100  # within the parser's limit, beyond numpy's 64 dimensions
    err = _bad(('{"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": %s}]}' % data).encode())
    assert err.details["fields"][0]["problem"] == "data is not BYTES"


@pytest.mark.parametrize(("size", "problem"), [(7, "binary data does not match shape"),
                                               (9, "binary data missing")])
def test_binary_data_of_the_wrong_size(size: int, problem: str) -> None:
    head = json.dumps({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32",
                                   "parameters": {"binary_data_size": size}}]}).encode()
    err = _bad(head + b"\0" * 8, len(head))
    assert err.details["fields"][0]["problem"] == problem


def test_binary_framing_errors() -> None:
    body, n = _binary_body([("x", "FP32", [2], b"\0" * 8)])
    assert "bytes after the JSON header" in _bad(body + b"\0", n).message
    assert "Inference-Header-Content-Length is" in _bad(body, len(body) + 1).message
    assert "not valid JSON" in _bad(body, n + 1).message
    bad_size = json.dumps({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32",
                                       "parameters": {"binary_data_size": -4}}]}).encode()
    assert _bad(bad_size, len(bad_size)).details["fields"][0]["problem"] == "bad binary_data_size"
    words = struct.pack("<I", 100) + b"short"
    body, n = _binary_body([("s", "BYTES", [1], words)])
    assert "only 5 are left" in _bad(body, n).message

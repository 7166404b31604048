"""Hypothesis: whatever a client sends to a V2 infer route, the decoder (and the signature
check after it) answers with the decoded request or stead's ``BadRequest``, never another
exception (which the server would turn into a 500)."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stead.errors import BadRequest
from stead.serving.inputs import check_columns, checked_inputs
from stead.serving.oip import DATATYPES, decode_infer, encode_infer

SPECS = (("tenure", "long", True), ("charges", "double", True), ("paperless", "boolean", True),
         ("plan", "string", True))
NUMERIC = (("a", "double", True), ("b", "long", True))
FUZZ = settings(max_examples=400, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

VALID = sorted(DATATYPES)
ITEMSIZE = {"BOOL": 1, "UINT8": 1, "INT8": 1, "UINT16": 2, "INT16": 2, "FP16": 2, "BF16": 2, "UINT32": 4, "INT32": 4,
            "FP32": 4, "UINT64": 8, "INT64": 8, "FP64": 8}
big_ints = st.one_of(st.integers(min_value=-300, max_value=300), st.integers(min_value=-(2**70), max_value=2**70))
floats = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e39, -1e39, 7e4, 1e308]))
scalars = st.one_of(st.none(), st.booleans(), big_ints, floats, st.text(max_size=5))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                           max_leaves=30)
odd_shapes = st.lists(st.one_of(st.integers(min_value=-2, max_value=6),
                                st.integers(min_value=-(2**65), max_value=2**65)), max_size=40)


def _elements(size: int) -> st.SearchStrategy[list[Any]]:
    exact = st.integers(min_value=size, max_value=size)
    n = st.one_of(exact, exact, exact, st.integers(min_value=0, max_value=size + 2))
    return n.flatmap(lambda k: st.one_of(st.lists(big_ints, min_size=k, max_size=k),
                                         st.lists(floats, min_size=k, max_size=k),
                                         st.lists(st.booleans(), min_size=k, max_size=k),
                                         st.lists(st.text(max_size=4), min_size=k, max_size=k),
                                         st.lists(json_values, min_size=k, max_size=k)))


def _raw(datatype: str, size: int) -> st.SearchStrategy[bytes]:
    if datatype == "BYTES":
        words = st.lists(st.binary(max_size=6), min_size=size, max_size=size)
        framed = words.map(lambda ws: b"".join(struct.pack("<I", len(w)) + w for w in ws))
        return st.one_of(framed, framed, st.binary(max_size=4 * size + 8))
    n = size * ITEMSIZE.get(datatype, 1)
    return st.one_of(st.binary(min_size=n, max_size=n), st.binary(min_size=n, max_size=n), st.binary(max_size=n + 4))


@st.composite
def tensors(draw: st.DrawFn) -> tuple[dict[str, Any], bytes]:
    datatype = draw(st.one_of(st.sampled_from(VALID), st.sampled_from(VALID), st.text(max_size=6)))
    shape = draw(st.one_of(st.lists(st.integers(min_value=0, max_value=4), max_size=3), odd_shapes))
    size = int(np.prod(shape)) if all(0 <= d <= 4 for d in shape) and len(shape) <= 3 else 1
    tensor: dict[str, Any] = {"name": draw(st.sampled_from(["input-0", "tenure", "charges", "paperless", "plan",
                                                            "a", "b", "x"])),
                              "shape": shape, "datatype": datatype}
    if draw(st.booleans()):
        flat = draw(_elements(size))
        nest = len(shape) == 2 and shape[1] and len(flat) == size and draw(st.booleans())
        tensor["data"] = [flat[i:i + shape[1]] for i in range(0, len(flat), shape[1])] if nest else flat
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            tensor["data"] = draw(json_values)
        return tensor, b""
    raw = draw(_raw(datatype, size))
    declared = draw(st.one_of(st.just(len(raw)), st.just(len(raw)), json_values, st.integers(min_value=-3, max_value=90)))
    tensor["parameters"] = {"binary_data_size": declared}
    return tensor, raw


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, int | None]:
    parts = draw(st.lists(tensors(), max_size=4))
    doc: dict[str, Any] = {"inputs": [t for t, _ in parts]}
    if draw(st.booleans()):
        doc["outputs"] = draw(st.lists(st.fixed_dictionaries(
            {"name": st.sampled_from(["predict", "predict_proba", "x"])},
            optional={"parameters": st.dictionaries(st.sampled_from(["binary_data", "other"]), json_values)}),
            max_size=2))
    if draw(st.booleans()):
        doc["parameters"] = draw(st.dictionaries(st.sampled_from(["binary_data_output", "temperature"]), json_values))
    if draw(st.booleans()):
        doc["id"] = draw(st.one_of(st.text(max_size=5), json_values))
    header = json.dumps(doc).encode()
    binary = b"".join(raw for _, raw in parts)
    if not binary and draw(st.booleans()):
        return header, None
    length = draw(st.one_of(st.just(len(header)), st.just(len(header)),
                            st.integers(min_value=-2, max_value=len(header) + 90)))
    return header + binary, length


def _serve_once(body: bytes, header_length: int | None) -> None:
    try:
        request = decode_infer(body, frozenset(n for n, _, _ in SPECS), header_length)
    except BadRequest:
        return
    for specs in (SPECS, NUMERIC):
        try:
            check_columns(specs, request.inputs)
            checked_inputs(specs, request.inputs)
        except BadRequest:
            pass
    out = {"predict": np.zeros(request.inputs.rows, dtype=np.int64), "label": np.array(["a"], dtype=object)}
    encode_infer("churn", "1", request.id, out, request=request)


@FUZZ
@given(requests())
def test_structured_requests_decode_or_are_bad_requests(req: tuple[bytes, int | None]) -> None:
    _serve_once(*req)


@FUZZ
@given(st.binary(max_size=200), st.one_of(st.none(), st.integers(min_value=-5, max_value=250)))
def test_arbitrary_bytes_decode_or_are_bad_requests(body: bytes, header_length: int | None) -> None:
    _serve_once(body, header_length)


@FUZZ
@given(json_values)
def test_arbitrary_json_documents_decode_or_are_bad_requests(doc: Any) -> None:
    _serve_once(json.dumps(doc).encode(), None)
    _serve_once(json.dumps({"inputs": [doc]}).encode(), None)

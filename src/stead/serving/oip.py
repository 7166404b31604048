"""The Open Inference Protocol (KServe V2) tensor JSON: decode a request, encode a response.

Pure functions over bytes and numpy arrays. ``data`` may be nested or flat (row-major);
it is reshaped to the declared ``shape`` and cast to the declared ``datatype``.
One 2-D tensor whose name is not a signature column is read as positional columns
(what V2 clients such as MLServer's send for tabular models); several tensors, or ones
named like the signature's columns, are read as named columns.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import msgspec
import numpy as np

from stead.errors import BadRequest
from stead.serving.inputs import Inputs

__all__ = ["DATATYPES", "decode_infer", "encode_infer", "datatype_of"]

DATATYPES: dict[str, Any] = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64, "BYTES": object,
}
_NAMES = {np.dtype(v): k for k, v in DATATYPES.items() if v is not object}
_MAX_ELEMENTS = 1 << 26


class _Tensor(msgspec.Struct, forbid_unknown_fields=False):
    name: str
    shape: list[int]
    datatype: str
    data: Any
    parameters: dict[str, Any] | None = None


class _Output(msgspec.Struct, forbid_unknown_fields=False):
    name: str
    parameters: dict[str, Any] | None = None


class _Request(msgspec.Struct, forbid_unknown_fields=False):
    inputs: list[_Tensor]
    id: str | None = None
    parameters: dict[str, Any] | None = None
    outputs: list[_Output] | None = None


_decoder = msgspec.json.Decoder(_Request)
_encoder = msgspec.json.Encoder()


def datatype_of(dtype: np.dtype) -> str:
    return _NAMES.get(dtype, "BYTES")


def _tensor(t: _Tensor) -> np.ndarray:
    kind = DATATYPES.get(t.datatype)
    if kind is None:
        raise BadRequest(f"Tensor {t.name!r} has datatype {t.datatype!r}; use one of {', '.join(DATATYPES)}",
                         fields=[{"name": t.name, "problem": "unknown datatype"}])
    if any(d < 0 for d in t.shape):
        raise BadRequest(f"Tensor {t.name!r} has a negative dimension in shape {t.shape}",
                         fields=[{"name": t.name, "problem": "bad shape"}])
    size = math.prod(t.shape)
    if size > _MAX_ELEMENTS:
        raise BadRequest(f"Tensor {t.name!r} has {size} elements; the limit is {_MAX_ELEMENTS}")
    try:
        if kind is object:
            arr = np.empty(size, dtype=object)
            arr[:] = list(_flatten(t.data))
        else:
            arr = np.asarray(t.data, dtype=kind)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"Tensor {t.name!r} data is not {t.datatype}: {exc}",
                         fields=[{"name": t.name, "problem": f"data is not {t.datatype}"}]) from None
    if arr.size != size:
        raise BadRequest(f"Tensor {t.name!r} has {arr.size} values but shape {t.shape} needs {size}",
                         fields=[{"name": t.name, "problem": "data does not match shape"}])
    return arr.reshape(t.shape)


def _flatten(data: Any) -> Any:
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    else:
        yield data


def decode_infer(body: bytes, column_names: Collection[str] | None) -> tuple[Inputs, str | None]:
    """The request as ``Inputs`` plus its ``id``; ``BadRequest`` when it is not V2 tensor JSON."""
    try:
        req = _decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"Not an inference request: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from None
    if not req.inputs:
        raise BadRequest("An inference request needs at least one tensor in 'inputs'")
    tensors = [(t.name, _tensor(t)) for t in req.inputs]
    names = [n for n, _ in tensors]
    if len(set(names)) != len(names):
        raise BadRequest("Input tensor names must be unique", fields=[{"name": n, "problem": "duplicate"}
                                                                         for n in names if names.count(n) > 1])
    known = column_names or ()
    if len(tensors) == 1 and tensors[0][1].ndim == 2 and tensors[0][0] not in known:
        inputs = Inputs.from_matrix(tensors[0][1])
    elif len(tensors) == 1 and not known:
        arr = tensors[0][1]
        inputs = Inputs(None, [arr], int(arr.shape[0]) if arr.ndim else 1, arr if arr.ndim == 2 else None)
    else:
        rows = {int(a.shape[0]) if a.ndim else 1 for _, a in tensors}
        if len(rows) != 1:
            raise BadRequest(f"Input tensors disagree on the number of rows: {sorted(rows)}",
                             fields=[{"name": n, "problem": f"{a.shape[0] if a.ndim else 1} rows"} for n, a in tensors])
        inputs = Inputs(names, [a for _, a in tensors], rows.pop())
    inputs.params = req.parameters
    inputs.outputs = tuple(o.name for o in req.outputs or ())
    return inputs, req.id


def encode_infer(model_name: str, model_version: str | None, request_id: str | None,
                 outputs: dict[str, np.ndarray], parameters: dict[str, Any] | None = None) -> bytes:
    """The V2 response body: one output tensor per named result, data flattened row-major."""
    out = []
    for name, arr in outputs.items():
        arr = np.asarray(arr)
        dt = datatype_of(arr.dtype)
        data = arr.ravel().tolist() if dt != "BYTES" else [v if isinstance(v, str) else str(v) for v in arr.ravel()]
        out.append({"name": name, "shape": list(arr.shape), "datatype": dt, "data": data})
    body: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        body["model_version"] = model_version
    body["id"] = request_id or ""
    if parameters:
        body["parameters"] = parameters
    body["outputs"] = out
    return _encoder.encode(body)

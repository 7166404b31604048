"""The Open Inference Protocol (KServe V2) tensors: decode a request, encode a response.

Pure functions over bytes and numpy arrays. ``data`` may be nested or flat (row-major);
it is reshaped to the declared ``shape`` and cast to the declared ``datatype``, refusing
values the datatype cannot hold (an INT8 of 300, an FP32 of 1e39, a string for FP64).
A tensor may instead come as raw bytes after the JSON header (the binary data extension,
``oip_binary``), and outputs go back that way when the request asks for it.
One 2-D tensor whose name is not a signature column is read as positional columns
(what V2 clients such as MLServer's send for tabular models); several tensors, or ones
named like the signature's columns, are read as named columns.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any, NamedTuple

import msgspec
import numpy as np

from stead.errors import BadRequest
from stead.serving.inputs import Inputs
from stead.serving.oip_binary import read_tensor, tensor_bytes

__all__ = ["DATATYPES", "V2Request", "decode_infer", "encode_infer", "datatype_of"]

DATATYPES: dict[str, Any] = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64, "BF16": np.float32, "BYTES": object,
}
_NAMES = {np.dtype(v): k for k, v in DATATYPES.items() if v is not object and k != "BF16"}
_DTYPES = {k: np.dtype(v) for k, v in DATATYPES.items()}
_MAX_ELEMENTS = 1 << 26
_MAX_DIMS = 32
# request parameters that steer the protocol (Triton's reserved names), not the model
_PROTOCOL_PARAMS = frozenset({"binary_data_output", "sequence_id", "sequence_start", "sequence_end",
                              "priority", "timeout", "headers"})


class _Tensor(msgspec.Struct, forbid_unknown_fields=False):
    name: str
    shape: list[int]
    datatype: str
    data: Any = None
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


class V2Request(NamedTuple):
    """A decoded infer request: the inputs, the request ``id``, and which outputs go back as
    binary data (``binary_all``: every one; ``binary``: those named)."""

    inputs: Inputs
    id: str | None
    binary_all: bool = False
    binary: frozenset[str] = frozenset()

    def wants_binary(self, name: str) -> bool:
        return self.binary_all or name in self.binary


def datatype_of(dtype: np.dtype) -> str:
    return _NAMES.get(dtype, "BYTES")


def _bad(name: str, problem: str, message: str) -> BadRequest:
    return BadRequest(f"Tensor {name!r} {message}", fields=[{"name": name, "problem": problem}])


def _size(t: _Tensor) -> int:
    if len(t.shape) > _MAX_DIMS:
        raise _bad(t.name, "bad shape", f"has {len(t.shape)} dimensions; the limit is {_MAX_DIMS}")
    if t.shape and min(t.shape) < 0:
        raise _bad(t.name, "bad shape", f"has a negative dimension in shape {t.shape}")
    size = math.prod(t.shape)
    if size > _MAX_ELEMENTS:
        raise _bad(t.name, "bad shape", f"has shape {t.shape}, {size} elements; the limit is {_MAX_ELEMENTS}")
    return size


def _binary_size(t: _Tensor) -> int | None:
    params = t.parameters or {}
    if "shared_memory_region" in params:
        raise _bad(t.name, "shared memory", "asks for shared memory, which this server does not offer; "
                                            "send the data in the request")
    n = params.get("binary_data_size")
    if n is None:
        return None
    if type(n) is not int or n < 0:
        raise _bad(t.name, "bad binary_data_size", f"has binary_data_size {n!r}; it must be a byte count")
    return n


def _json_values(t: _Tensor, size: int) -> np.ndarray:
    """The JSON ``data`` of one tensor as an array of its datatype (nested or flat)."""
    dt = t.datatype
    if t.data is None:
        raise _bad(t.name, "no data", "has no 'data' (and no parameters.binary_data_size)")
    try:
        got = np.asarray(t.data, dtype=object if dt == "BYTES" else None)
    except (ValueError, TypeError, OverflowError):
        raise _bad(t.name, f"data is not {dt}", f"data is not {dt}: ragged or nested too deeply") from None
    if got.size != size:
        raise _bad(t.name, "data does not match shape", f"has {got.size} values but shape {t.shape} needs {size}")
    if got.ndim > max(len(t.shape), 1):
        raise _bad(t.name, f"data is not {dt}", f"data is nested {got.ndim} deep, deeper than its shape {t.shape}")
    kind = got.dtype.kind
    if dt == "FP64" and kind in "fiu":  # the common case; msgspec refuses numbers beyond float64
        return got if kind == "f" else got.astype(np.float64)
    if dt == "BYTES":
        if not all(isinstance(v, str) for v in got.flat):
            raise _bad(t.name, "data is not BYTES", "data must be strings for datatype BYTES")
        return got
    want = _DTYPES[dt]
    if dt == "BOOL":
        if kind != "b" and size:
            raise _bad(t.name, "data is not BOOL", "data must be true or false for datatype BOOL")
        return got.astype(np.bool_, copy=False)
    if size and kind not in ("iu" if want.kind in "iu" else "iuf"):
        what = {"b": "booleans", "U": "strings", "f": "floating-point numbers"}.get(kind, "mixed values or huge integers")
        raise _bad(t.name, f"data is not {dt}", f"data is not {dt}: it holds {what}")
    if want.kind in "iu":
        info = np.iinfo(want)
        if size and (got.min() < info.min or got.max() > info.max):
            raise _bad(t.name, f"data is out of range for {dt}",
                       f"has integers out of the range of {dt} ({info.min} to {info.max})")
        return got.astype(want, copy=False)
    with np.errstate(over="ignore"):
        arr = got.astype(want, copy=False)
    if size and not np.isfinite(arr).all():
        raise _bad(t.name, f"data is out of range for {dt}", f"has a number too large for {dt}")
    return arr


def _tensor(t: _Tensor, binary: memoryview | None, offset: int) -> tuple[np.ndarray, int]:
    """One input tensor, reshaped, and the offset of the next binary tensor."""
    if t.datatype not in DATATYPES:
        raise _bad(t.name, "unknown datatype", f"has datatype {t.datatype!r}; use one of {', '.join(DATATYPES)}")
    size = _size(t)
    nbytes = _binary_size(t)
    if nbytes is None:
        arr = _json_values(t, size)
    else:
        if binary is None or offset + nbytes > len(binary):
            left = 0 if binary is None else len(binary) - offset
            raise _bad(t.name, "binary data missing", f"has binary_data_size {nbytes} but the body holds only "
                       f"{left} more bytes after the JSON header (Inference-Header-Content-Length)")
        arr = read_tensor(t.name, t.datatype, size, binary[offset:offset + nbytes])
        offset += nbytes
    return arr.reshape(t.shape), offset


def _parse(header: bytes) -> _Request:
    try:
        return _decoder.decode(header)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"Not an inference request: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("Request body is JSON nested too deeply to be an inference request") from None


def decode_infer(body: bytes, column_names: Collection[str] | None,
                 header_length: int | None = None) -> V2Request:
    """The request as ``Inputs`` plus its ``id`` and output options; ``BadRequest`` when it is
    not V2 tensor JSON. ``header_length`` (the ``Inference-Header-Content-Length`` header)
    marks where the JSON ends and binary tensor data begins."""
    binary: memoryview | None = None
    if header_length is not None:
        if not 0 <= header_length <= len(body):
            raise BadRequest(f"Inference-Header-Content-Length is {header_length} but the body has "
                             f"{len(body)} bytes")
        binary = memoryview(body)[header_length:]
        body = body[:header_length]
    req = _parse(body)
    if not req.inputs:
        raise BadRequest("An inference request needs at least one tensor in 'inputs'")
    offset = 0
    tensors = []
    for t in req.inputs:
        arr, offset = _tensor(t, binary, offset)
        tensors.append((t.name, arr))
    if binary is not None and offset != len(binary):
        raise BadRequest(f"The body has {len(binary) - offset} bytes after the JSON header that no tensor's "
                         f"binary_data_size accounts for")
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
    params = req.parameters
    binary_all = False
    if params:
        binary_all = params.get("binary_data_output") is True
        inputs.params = {k: v for k, v in params.items()
                         if k not in _PROTOCOL_PARAMS and not k.startswith("triton_")} or None
    if not req.outputs:
        return V2Request(inputs, req.id, binary_all)
    inputs.outputs = tuple(o.name for o in req.outputs)
    wanted = frozenset(o.name for o in req.outputs if (o.parameters or {}).get("binary_data", binary_all) is True)
    return V2Request(inputs, req.id, False, wanted)


def encode_infer(model_name: str, model_version: str | None, request_id: str | None,
                 outputs: dict[str, np.ndarray], parameters: dict[str, Any] | None = None,
                 request: V2Request | None = None) -> tuple[bytes, int | None]:
    """The V2 response body, and the length of its JSON header when binary tensor data
    follows it (None when the body is JSON alone). JSON data is flattened row-major."""
    out = []
    raw: list[bytes] = []
    for name, arr in outputs.items():
        arr = np.asarray(arr)
        dt = datatype_of(arr.dtype)
        tensor: dict[str, Any] = {"name": name, "shape": list(arr.shape), "datatype": dt}
        if request is not None and request.wants_binary(name):
            data = tensor_bytes(arr, dt)
            tensor["parameters"] = {"binary_data_size": len(data)}
            raw.append(data)
        else:
            tensor["data"] = arr.ravel().tolist() if dt != "BYTES" else [
                v.decode("utf-8", "replace") if isinstance(v, bytes) else v if isinstance(v, str) else str(v)
                for v in arr.ravel()]
        out.append(tensor)
    body: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        body["model_version"] = model_version
    body["id"] = request_id or ""
    if parameters:
        body["parameters"] = parameters
    body["outputs"] = out
    header = _encoder.encode(body)
    if not raw:
        return header, None
    return b"".join([header, *raw]), len(header)


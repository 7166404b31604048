"""The Open Inference Protocol's binary tensor data extension: tensors as raw bytes.

A request or response body is a JSON header (``Inference-Header-Content-Length`` bytes long)
followed by each binary tensor's bytes, in the order the header lists them; a tensor's
``parameters.binary_data_size`` says how many bytes are its own. Elements are little-endian
and row-major; BOOL is one byte each; BYTES is each element's length as a 4-byte
little-endian integer, then its bytes; BF16 is the upper half of an FP32. Triton's
``tritonclient`` sends inputs this way by default and asks for outputs this way too.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from stead.errors import BadRequest

__all__ = ["EXTENSION", "HEADER", "RAW_DTYPES", "read_tensor", "tensor_bytes"]

EXTENSION = "binary_tensor_data"
HEADER = b"inference-header-content-length"
RAW_DTYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype("u1"), "UINT8": np.dtype("u1"), "UINT16": np.dtype("<u2"), "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"), "INT8": np.dtype("i1"), "INT16": np.dtype("<i2"), "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"), "FP16": np.dtype("<f2"), "FP32": np.dtype("<f4"), "FP64": np.dtype("<f8"),
    "BF16": np.dtype("<u2"),
}
_LENGTH = struct.Struct("<I")


def _bad(name: str, problem: str, message: str) -> BadRequest:
    return BadRequest(f"Tensor {name!r} {message}", fields=[{"name": name, "problem": problem}])


def read_tensor(name: str, datatype: str, size: int, raw: bytes | memoryview) -> np.ndarray:
    """The ``size`` elements of one binary tensor as a flat array (``BadRequest`` when the
    bytes do not hold exactly that many)."""
    if datatype == "BYTES":
        return _read_bytes(name, size, memoryview(raw))
    dtype = RAW_DTYPES[datatype]
    if len(raw) != size * dtype.itemsize:
        raise _bad(name, "binary data does not match shape",
                   f"has {len(raw)} bytes of binary data but its shape needs {size} {datatype} "
                   f"values ({size * dtype.itemsize} bytes)")
    flat = np.frombuffer(raw, dtype=dtype)
    if datatype == "BOOL":
        return flat != 0
    if datatype == "BF16":
        return (flat.astype(np.uint32) << 16).view(np.float32)
    return flat.astype(dtype.newbyteorder("="), copy=False)


def _read_bytes(name: str, size: int, raw: memoryview) -> np.ndarray:
    out = np.empty(size, dtype=object)
    offset, end = 0, len(raw)
    for i in range(size):
        if offset + 4 > end:
            raise _bad(name, "binary data does not match shape",
                       f"has binary data for {i} BYTES elements but its shape needs {size}")
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += 4
        if offset + length > end:
            raise _bad(name, "binary data does not match shape",
                       f"element {i} says it has {length} bytes but only {end - offset} are left")
        out[i] = bytes(raw[offset:offset + length])
        offset += length
    if offset != end:
        raise _bad(name, "binary data does not match shape",
                   f"has {end - offset} bytes of binary data after its {size} BYTES elements")
    return out


def tensor_bytes(arr: np.ndarray, datatype: str) -> bytes:
    """One output tensor as raw bytes for the binary extension."""
    if datatype == "BYTES":
        parts: list[bytes] = []
        for v in arr.ravel():
            data = v if isinstance(v, bytes) else str(v).encode("utf-8")
            parts += (_LENGTH.pack(len(data)), data)
        return b"".join(parts)
    dtype = RAW_DTYPES[datatype]
    return np.ascontiguousarray(arr, dtype=dtype).tobytes()

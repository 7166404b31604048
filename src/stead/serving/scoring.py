"""MLflow's scoring protocol (``POST /invocations``): decode JSON or CSV, encode predictions.

The JSON body holds exactly one of ``dataframe_split``, ``dataframe_records``,
``instances`` or ``inputs`` (plus optional ``params``), as ``mlflow models serve`` takes.
Responses are ``{"predictions": ...}``; errors are MLflow's ``{"error_code", "message"}``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec
import numpy as np

from stead.errors import BadRequest
from stead.serving.inputs import Inputs, column_as_array

__all__ = ["CONTENT_TYPES", "decode_invocation", "encode_predictions", "SCHEMA_NOTICE"]

CONTENT_TYPES = ("application/json", "text/csv")
_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
SCHEMA_NOTICE = (
    "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', "
    "'dataframe_records', 'instances', 'inputs'}. Note that the scoring protocol changed in MLflow 2.0: "
    "the format is now chosen by the key of the JSON body, not by the content type."
)
_decode_json = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


def _records(records: Any) -> Inputs:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise BadRequest("'dataframe_records' must be a list of objects, one per row")
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r))
    cols = [column_as_array([r.get(n) for r in records]) for n in names]
    return Inputs(list(names), cols, len(records))


def _split(split: Any) -> Inputs:
    if not isinstance(split, dict) or "data" not in split:
        raise BadRequest("'dataframe_split' must be an object with 'data' (and usually 'columns')")
    data, columns = split["data"], split.get("columns")
    if not isinstance(data, list) or not all(isinstance(r, list) for r in data):
        raise BadRequest("'dataframe_split.data' must be a list of rows (lists)")
    if columns is not None and (not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)):
        raise BadRequest("'dataframe_split.columns' must be a list of column names")
    width = len(columns) if columns is not None else (len(data[0]) if data else 0)
    bad = [i for i, r in enumerate(data) if len(r) != width]
    if bad:
        raise BadRequest(f"'dataframe_split.data' rows {bad[:10]} do not have {width} values")
    try:
        matrix = np.asarray(data) if data else np.empty((0, width))
    except ValueError:
        matrix = np.empty((len(data), width), dtype=object)
    if matrix.dtype.kind in "iufb" and matrix.ndim == 2:
        return Inputs.from_matrix(matrix, columns, data)  # the rows stay for a per-column check
    cols = [column_as_array([r[i] for r in data]) for i in range(width)]
    return Inputs(columns, cols, len(data))


def _tensors(value: Any, key: str) -> Inputs:
    if isinstance(value, dict):
        if not value:
            raise BadRequest(f"'{key}' is an empty object")
        cols = [column_as_array(v if isinstance(v, list) else [v]) for v in value.values()]
        rows = {int(c.shape[0]) for c in cols}
        if len(rows) != 1:
            raise BadRequest(f"'{key}' columns have different lengths: {sorted(rows)}")
        return Inputs([str(k) for k in value], cols, rows.pop())
    if isinstance(value, list):
        if value and all(isinstance(r, dict) for r in value):
            return _records(value)
        arr = column_as_array(value)
        if arr.ndim == 2:
            return Inputs.from_matrix(arr, None, value)
        return Inputs(None, [arr], int(arr.shape[0]) if arr.ndim else 1, None)
    raise BadRequest(f"'{key}' must be a list or an object")


def _csv(body: bytes) -> Inputs:
    try:
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadRequest(f"The CSV body cannot be read: {exc}") from None
    if not rows:
        raise BadRequest("The CSV body is empty; the first line must name the columns")
    header, data = rows[0], [r for r in rows[1:] if r]
    bad = [i + 2 for i, r in enumerate(data) if len(r) != len(header)]
    if bad:
        raise BadRequest(f"CSV lines {bad[:10]} do not have {len(header)} values")
    cols = []
    for i in range(len(header)):
        raw = [r[i] for r in data]
        for kind in (np.int64, np.float64):
            try:
                cols.append(np.array(raw, dtype=kind))
                break
            except ValueError:
                continue
        else:
            cols.append(np.array(raw, dtype=object))
    return Inputs(header, cols, len(data))


def decode_invocation(body: bytes, content_type: str) -> Inputs:
    """The request as ``Inputs``; ``BadRequest`` with MLflow's messages otherwise."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "text/csv":
        return _csv(body)
    if kind != "application/json":
        raise BadRequest(f"This predictor only supports the following content types: {list(CONTENT_TYPES)}. "
                         f"Got '{content_type}'.")
    try:
        doc = _decode_json(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("Request body is JSON nested too deeply to be a table of inputs") from None
    if not isinstance(doc, dict):
        raise BadRequest(SCHEMA_NOTICE)
    keys = [k for k in _KEYS if k in doc]
    unknown = [k for k in doc if k not in _KEYS and k != "params"]
    if len(keys) != 1 or unknown:
        raise BadRequest(f"{SCHEMA_NOTICE} Received keys: {sorted(doc)}.")
    key = keys[0]
    if "signature_name" in doc or (key == "inputs" and isinstance(doc[key], dict) and "signature_name" in doc[key]):
        raise BadRequest("'signature_name' is not supported; send the inputs only")
    value = doc[key]
    if key == "dataframe_split":
        inputs = _split(value)
    elif key == "dataframe_records":
        inputs = _records(value)
    else:
        inputs = _tensors(value, key)
    params = doc.get("params")
    if params is not None and not isinstance(params, dict):
        raise BadRequest("'params' must be an object")
    inputs.params = params
    return inputs


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def encode_predictions(outputs: dict[str, np.ndarray]) -> bytes:
    """``{"predictions": [...]}``: one output as a list, several as a list of records."""
    if len(outputs) == 1:
        return _encode({"predictions": _jsonable(next(iter(outputs.values())))})
    names = list(outputs)
    columns = [np.asarray(outputs[n]).tolist() for n in names]
    return _encode({"predictions": [dict(zip(names, row)) for row in zip(*columns)]})

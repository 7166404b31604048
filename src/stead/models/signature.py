"""Model signatures in MLflow's format: what a model takes and returns, and the check
``predict`` runs before calling the model.

A signature is three JSON strings in the MLmodel file: ``inputs`` and ``outputs`` are
lists of column specs (``{"type": "double", "name": "age", "required": true}``) or tensor
specs (``{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}``);
``params`` is a list of ``{"name", "type", "default", "shape"}``. Inference and checking
are pure functions; pandas is imported only when a DataFrame is involved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stead.errors import InvalidParameter

__all__ = [
    "ColSpec",
    "TensorSpec",
    "Schema",
    "ModelSignature",
    "infer_schema",
    "infer_signature",
    "enforce_schema",
]

DATA_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")
_COMPOSITE = ("array", "object", "map", "any", "sparkml_vector")
_NUMERIC: dict[str, np.dtype[Any]] = {"integer": np.dtype("int32"), "long": np.dtype("int64"),
            "float": np.dtype("float32"), "double": np.dtype("float64")}
_MAX_JSON = 1 << 20  # a signature is small; refuse megabytes of hostile JSON


@dataclass(frozen=True)
class ColSpec:
    """One column: an MLflow data type (or a composite type kept verbatim), a name, required."""

    type: str
    name: str | None = None
    required: bool = True
    raw: dict[str, Any] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = dict(self.raw) if self.raw else {"type": self.type}
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ColSpec":
        kind = d.get("type")
        name = d.get("name")
        required = d.get("required", True)
        if name is not None and not isinstance(name, str):
            raise InvalidParameter(f"Signature column name {name!r} is not a string")
        if kind in DATA_TYPES:
            return cls(kind, name, bool(required))
        if kind in _COMPOSITE:
            raw = {k: v for k, v in d.items() if k not in ("name", "required")}
            return cls(kind, name, bool(required if required is not None else True), raw)
        raise InvalidParameter(f"Signature column type {kind!r} is not one of {', '.join(DATA_TYPES + _COMPOSITE)}")


@dataclass(frozen=True)
class TensorSpec:
    """One tensor: a numpy dtype name and a shape where -1 means any size (the batch)."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    @property
    def required(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        spec = {"type": "tensor", "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)}}
        return {"name": self.name, **spec} if self.name is not None else spec

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TensorSpec":
        spec = d.get("tensor-spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("dtype"), str):
            raise InvalidParameter("Signature tensor spec needs 'tensor-spec' with 'dtype' and 'shape'")
        shape = spec.get("shape")
        if not isinstance(shape, list) or not all(isinstance(s, int) and s >= -1 for s in shape):
            raise InvalidParameter(f"Signature tensor shape {shape!r} is not a list of sizes (-1 for any)")
        try:
            np.dtype(spec["dtype"])
        except TypeError as exc:
            raise InvalidParameter(f"Signature tensor dtype {spec['dtype']!r} is not a numpy dtype") from exc
        name = d.get("name")
        if name is not None and not isinstance(name, str):
            raise InvalidParameter(f"Signature tensor name {name!r} is not a string")
        return cls(spec["dtype"], tuple(shape), name)


Spec = ColSpec | TensorSpec


@dataclass(frozen=True)
class Schema:
    """A list of column specs or a list of tensor specs (never mixed)."""

    inputs: tuple[Spec, ...]

    def __post_init__(self) -> None:
        if not self.inputs:
            raise InvalidParameter("A schema needs at least one column or tensor")
        kinds = {type(s) for s in self.inputs}
        if len(kinds) > 1:
            raise InvalidParameter("A schema cannot mix columns and tensors")
        named = [s.name is not None for s in self.inputs]
        if any(named) and not all(named):
            raise InvalidParameter("A schema cannot mix named and unnamed inputs")

    @property
    def is_tensor(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    @property
    def has_names(self) -> bool:
        return self.inputs[0].name is not None

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.inputs if s.name is not None]

    def to_json(self) -> str:
        return json.dumps([s.to_dict() for s in self.inputs])

    @classmethod
    def from_json(cls, text: str) -> "Schema":
        if not isinstance(text, str) or len(text) > _MAX_JSON:
            raise InvalidParameter("Signature schema must be a JSON string under 1 MiB")
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise InvalidParameter(f"Signature schema is not valid JSON: {exc}") from exc
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            raise InvalidParameter("Signature schema must be a JSON list of objects")
        return cls(tuple(TensorSpec.from_dict(x) if x.get("type") == "tensor" else ColSpec.from_dict(x) for x in items))


@dataclass(frozen=True)
class ModelSignature:
    """Inputs, outputs and inference params of a model, as stored in the MLmodel file."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: tuple[dict[str, Any], ...] | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": json.dumps(list(self.params)) if self.params else None,
        }

    @classmethod
    def from_dict(cls, d: Any) -> "ModelSignature":
        if not isinstance(d, dict):
            raise InvalidParameter("MLmodel 'signature' must be a mapping of inputs, outputs, params")
        params = None
        if d.get("params"):
            raw = d["params"]
            if not isinstance(raw, str) or len(raw) > _MAX_JSON:
                raise InvalidParameter("Signature params must be a JSON string under 1 MiB")
            try:
                items = json.loads(raw)
            except ValueError as exc:
                raise InvalidParameter(f"Signature params are not valid JSON: {exc}") from exc
            if not isinstance(items, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in items):
                raise InvalidParameter("Signature params must be a list of objects with a 'name'")
            params = tuple(items)
        return cls(
            Schema.from_json(d["inputs"]) if d.get("inputs") else None,
            Schema.from_json(d["outputs"]) if d.get("outputs") else None,
            params,
        )


# ---- inference -------------------------------------------------------------------------
def _tensor_dtype(dtype: np.dtype) -> str:
    if dtype.kind == "U":
        return "str"
    if dtype.kind == "S":
        return "bytes"
    return dtype.name


def _column_type(name: Any, series: Any) -> str:
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return "string"
    kind = getattr(dtype, "kind", "O")
    size = getattr(dtype, "itemsize", 8)
    if kind == "b":
        return "boolean"
    if kind == "i":
        return "integer" if size <= 4 else "long"
    if kind == "u" and size <= 4:
        return "integer" if size <= 2 else "long"
    if kind == "f":
        return "float" if size <= 4 else "double"
    if kind == "M":
        return "datetime"
    if kind == "O":
        values = [v for v in series.tolist() if v is not None]
        if values and all(isinstance(v, str) for v in values):
            return "string"
        if values and all(isinstance(v, (bytes, bytearray)) for v in values):
            return "binary"
        if values and all(isinstance(v, bool) for v in values):
            return "boolean"
    raise InvalidParameter(f"Column {name!r} has type {dtype}, which a model signature cannot describe")


def _as_frame(data: Any) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        return pd.DataFrame({k: (v if isinstance(v, (list, tuple, np.ndarray)) else [v]) for k, v in data.items()})
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame.from_records(data)
    raise InvalidParameter(f"Cannot read {type(data).__name__} as a table")


def infer_schema(data: Any) -> Schema:
    """The schema of an example: DataFrame, Series, numpy array, dict or list of records."""
    if isinstance(data, np.ndarray):
        return Schema((TensorSpec(_tensor_dtype(data.dtype), (-1, *data.shape[1:])),))
    if isinstance(data, dict) and data and all(isinstance(v, np.ndarray) for v in data.values()):
        return Schema(tuple(
            TensorSpec(_tensor_dtype(v.dtype), (-1, *v.shape[1:]), str(k)) for k, v in data.items()
        ))
    mod = type(data).__module__
    if mod.startswith("pandas") and type(data).__name__ == "Series":
        name = None if data.name is None else str(data.name)
        return Schema((ColSpec(_column_type(name, data), name),))
    if isinstance(data, (list, tuple)) and data and not isinstance(data[0], dict):
        return infer_schema(np.asarray(data))
    if mod.startswith("torch") and hasattr(data, "numpy"):
        return infer_schema(data.detach().cpu().numpy())
    frame = _as_frame(data)
    if all(isinstance(c, int) for c in frame.columns) and list(frame.columns) == list(range(frame.shape[1])):
        return Schema(tuple(ColSpec(_column_type(c, frame[c])) for c in frame.columns))
    return Schema(tuple(ColSpec(_column_type(c, frame[c]), str(c)) for c in frame.columns))


def infer_signature(model_input: Any, model_output: Any = None) -> ModelSignature:
    """A signature from an input example and, optionally, the model's output on it."""
    outputs = None
    if model_output is not None:
        try:
            outputs = infer_schema(model_output)
        except InvalidParameter:
            outputs = None  # an output we cannot describe does not stop a model being saved
    return ModelSignature(infer_schema(model_input), outputs)


# ---- enforcement -----------------------------------------------------------------------
_EXACT_IN_FLOAT = {4: 2**24, 8: 2**53}


def _int_fits_float(values: np.ndarray, target: np.dtype) -> bool:
    if values.size == 0:
        return True
    limit = _EXACT_IN_FLOAT.get(target.itemsize, 0)
    return bool(np.abs(values.astype(np.float64)).max() <= limit)


def _convert_numeric(values: np.ndarray, target: np.dtype) -> np.ndarray | None:
    """``values`` as ``target`` when no value changes (int → float included), else None."""
    have = values.dtype
    if have == target:
        return values
    if have.kind == "b" or target.kind not in "iuf":
        return None
    if np.can_cast(have, target, casting="safe"):
        return values.astype(target)
    if have.kind in "iu" and target.kind == "f" and _int_fits_float(values, target):
        return values.astype(target)
    return None


def _check_column(name: str, series: Any, want: str) -> tuple[Any, str | None]:
    import pandas as pd

    if want not in DATA_TYPES:  # composite types are passed through; presence was checked
        return series, None
    if series.dtype == object and want not in ("string", "binary"):
        series = series.infer_objects()
    have = series.dtype
    problem = f"column {name!r} is {have} but the signature wants {want}"
    if want in ("string", "binary"):
        ok = have == object or isinstance(have, pd.StringDtype) or (want == "binary" and have.kind == "S")
        return (series, None) if ok else (series, problem)
    if want == "boolean":
        return (series, None) if have.kind == "b" or have == object else (series, problem)
    if want == "datetime":
        if getattr(have, "kind", "") == "M" or have == object:
            try:
                return series.astype("datetime64[ns]"), None
            except (TypeError, ValueError):
                return series, problem
        return series, problem
    target = _NUMERIC[want]
    if not isinstance(have, np.dtype):
        try:
            series = series.astype(have.numpy_dtype)  # pandas nullable ints without NA
            have = series.dtype
        except (TypeError, ValueError, AttributeError):
            return series, problem
    converted = _convert_numeric(series.to_numpy(), target)
    if converted is None:
        hint = " (missing values make integer columns float; declare the column as double)" \
            if have.kind == "f" and target.kind == "i" and series.hasnans else ""
        return series, problem + hint
    return pd.Series(converted, index=series.index, name=series.name), None


def _fail(problems: list[str]) -> None:
    if problems:
        raise InvalidParameter(
            "Input does not match the model signature: " + "; ".join(problems),
            problems=problems,
        )


def _quote(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _enforce_columns(schema: Schema, data: Any) -> Any:
    import pandas as pd

    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    if isinstance(data, np.ndarray):
        if data.ndim != 2 or data.shape[1] != len(specs):
            _fail([f"got an array of shape {data.shape} but the signature wants {len(specs)} columns"])
        data = pd.DataFrame(data, columns=[s.name for s in specs] if schema.has_names else None)
    elif not isinstance(data, pd.DataFrame):
        data = _as_frame(data)
    problems: list[str] = []
    if not schema.has_names:
        if data.shape[1] != len(specs):
            _fail([f"got {data.shape[1]} columns but the signature wants {len(specs)}"])
        out = {}
        for i, (col, spec) in enumerate(zip(data.columns, specs)):
            out[col], problem = _check_column(f"#{i}", data[col], spec.type)
            if problem:
                problems.append(problem)
        _fail(problems)
        return pd.DataFrame(out, index=data.index)
    columns = [str(c) for c in data.columns]
    data = data.set_axis(columns, axis=1)
    wanted = {s.name: s for s in specs if s.name is not None}
    missing = [n for n, s in wanted.items() if s.required and n not in columns]
    extra = [c for c in columns if c not in wanted]
    if missing:
        problems.append(f"missing column(s) {_quote(missing)}")
    if extra:
        problems.append(f"unexpected column(s) {_quote(extra)}")
    out = {}
    for name, spec in wanted.items():
        if name not in columns:
            continue
        out[name], problem = _check_column(name, data[name], spec.type)
        if problem:
            problems.append(problem)
    _fail(problems)
    return pd.DataFrame(out, index=data.index)


def _check_tensor(label: str, value: Any, spec: TensorSpec) -> tuple[Any, str | None]:
    arr = np.asarray(value)
    want = np.dtype(spec.dtype) if spec.dtype not in ("str", "bytes") else None
    shape_ok = arr.ndim == len(spec.shape) and all(w in (-1, h) for w, h in zip(spec.shape, arr.shape))
    if not shape_ok and not (spec.shape == (-1,) and spec.dtype == "object"):
        return arr, f"{label} has shape {arr.shape} but the signature wants {tuple(spec.shape)}"
    if want is None:
        kind = "U" if spec.dtype == "str" else "S"
        return (arr, None) if arr.dtype.kind in (kind, "O") else (arr, f"{label} is {arr.dtype} but the signature wants {spec.dtype}")
    if want == np.dtype("O"):
        return arr, None
    converted = _convert_numeric(arr, want) if want.kind in "iuf" else (arr if arr.dtype == want else None)
    if converted is None:
        return arr, f"{label} is {arr.dtype} but the signature wants {want.name}"
    return converted, None


def _enforce_tensors(schema: Schema, data: Any) -> Any:
    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if not schema.has_names:
        if isinstance(data, dict) and len(data) == 1:
            data = next(iter(data.values()))
        elif hasattr(data, "to_numpy"):
            data = data.to_numpy()
        arr, problem = _check_tensor("input", data, specs[0])
        _fail([problem] if problem else [])
        return arr
    if hasattr(data, "columns"):
        data = {str(c): data[c].to_numpy() for c in data.columns}
    if not isinstance(data, dict):
        if len(specs) == 1:
            data = {specs[0].name: data}
        else:
            _fail([f"got {type(data).__name__} but the signature wants named tensors {_quote(schema.names)}"])
    names = [str(k) for k in data]
    missing = [s.name for s in specs if s.name not in names]
    extra = [n for n in names if n not in schema.names]
    problems = []
    if missing:
        problems.append(f"missing tensor(s) {_quote([m for m in missing if m])}")
    if extra:
        problems.append(f"unexpected tensor(s) {_quote(extra)}")
    out = {}
    for spec in specs:
        if spec.name in data:
            out[spec.name], problem = _check_tensor(f"tensor {spec.name!r}", data[spec.name], spec)
            if problem:
                problems.append(problem)
    _fail(problems)
    return out


def enforce_schema(schema: Schema, data: Any) -> Any:
    """``data`` converted to what ``schema`` describes, or ``InvalidParameter`` naming every
    missing, unexpected and mistyped column (or tensor) in one message.

    Safe conversions are applied as MLflow's schema enforcement does: integers to wider
    integers, floats to wider floats, and integers to floats when every value is exact.
    """
    if schema.is_tensor:
        return _enforce_tensors(schema, data)
    return _enforce_columns(schema, data)

"""What a request carries once decoded: named (or positional) columns as numpy arrays.

Both protocol codecs (``oip``, ``scoring``) decode into ``Inputs``; the model runtime
checks them against the signature with ``check_columns`` (a pure function) and feeds
the model. No pandas here: a 2-D numeric block stays one array from JSON to the model.

JSON rows (``dataframe_split``, lists of rows) are first read as one block, which is what
an all-float model wants. A block merges types (``[3, 65.3, true]`` is all float64,
``[3, "a"]`` all strings), so the rows are kept too, and the columns are read from them
one by one (each with its own type) when the signature check needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from stead.errors import BadRequest

__all__ = ["Inputs", "FieldProblem", "invalid_input", "check_columns", "checked_inputs", "column_as_array"]

_NUMERIC: dict[str, np.dtype[Any]] = {"integer": np.dtype("int32"), "long": np.dtype("int64"),
            "float": np.dtype("float32"), "double": np.dtype("float64")}
_EXACT_IN_FLOAT = {4: 2**24, 8: 2**53}
_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


class Inputs:
    """One request's data: ``columns[i]`` is named ``names[i]`` (``names`` is None when
    positional); ``matrix`` is the same data as one 2-D block when it arrived as one (then
    ``columns`` are made only when asked for: views of it, or read from ``json_rows``, the
    JSON rows it was made from, when the block may have merged their types)."""

    __slots__ = ("names", "_columns", "rows", "matrix", "params", "outputs", "extra", "json_rows")

    def __init__(self, names: list[str] | None, columns: list[np.ndarray] | None, rows: int,
                 matrix: np.ndarray | None = None, params: dict[str, Any] | None = None,
                 outputs: tuple[str, ...] = (), extra: dict[str, Any] | None = None,
                 json_rows: list[list[Any]] | None = None) -> None:
        if columns is None and (matrix is None or matrix.ndim != 2):
            raise ValueError("Inputs needs columns, or a 2-D matrix to take them from")
        self.names = names
        self._columns = columns
        self.rows = rows
        self.matrix = matrix
        self.params = params
        self.outputs = outputs
        self.extra = extra if extra is not None else {}
        self.json_rows = json_rows

    @property
    def columns(self) -> list[np.ndarray]:
        if self._columns is None:
            assert self.matrix is not None
            if self.json_rows is not None and self.matrix.dtype.kind not in "biuf":
                # numbers, bools and strings were merged into strings or objects: read each column
                self._columns = self._row_columns()
            else:
                self._columns = [self.matrix[:, i] for i in range(self.matrix.shape[1])]
        return self._columns

    def typed_columns(self) -> list[np.ndarray]:
        """The columns, each with the type of its own JSON values (not the block's)."""
        if self._columns is None and self.json_rows is not None and self.matrix is not None:
            self._columns = self._row_columns()
        return self.columns

    def _row_columns(self) -> list[np.ndarray]:
        """Each column read from ``json_rows`` on its own, with its values' own type."""
        assert self.json_rows is not None and self.matrix is not None
        data = self.json_rows
        return [column_as_array([r[i] for r in data]) for i in range(self.matrix.shape[1])]

    @property
    def width(self) -> int:
        """How many columns."""
        return self.matrix.shape[1] if self._columns is None and self.matrix is not None else len(self.columns)

    @classmethod
    def from_matrix(cls, matrix: np.ndarray, names: list[str] | None = None,
                    json_rows: list[list[Any]] | None = None) -> "Inputs":
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1) if names is not None or matrix.dtype.kind not in "iufb" else matrix
        if matrix.ndim == 2:
            return cls(names, None, int(matrix.shape[0]), matrix, json_rows=json_rows)
        return cls(names, [matrix], int(matrix.shape[0]), matrix)

    def as_records(self) -> Any:
        """A JSON-able view for the prediction log."""
        if self.names is None:
            return self.matrix.tolist() if self.matrix is not None else [c.tolist() for c in self.columns]
        return {n: c.tolist() for n, c in zip(self.names, self.columns)}


@dataclass(frozen=True)
class FieldProblem:
    name: str
    problem: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "problem": self.problem}


def invalid_input(problems: list[FieldProblem]) -> BadRequest:
    text = "; ".join(f"{p.name!r}: {p.problem}" for p in problems)
    return BadRequest(f"Input does not match the model signature: {text}",
                      fields=[p.to_dict() for p in problems])


def column_as_array(values: Any) -> np.ndarray:
    """A JSON list as an array; mixed or ragged values become an object array."""
    try:
        arr = np.asarray(values)
    except ValueError:
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
    return arr


def _fits(arr: np.ndarray, want: str) -> np.ndarray | str:
    """``arr`` converted for signature type ``want``, or a problem description."""
    kind = arr.dtype.kind
    if want in _NUMERIC:
        target = _NUMERIC[want]
        if kind == "f" and target.kind == "f":
            return arr if arr.dtype == target or target.itemsize >= arr.dtype.itemsize else arr.astype(target)
        if kind in "iu":
            if target.kind == "f" and arr.size and np.abs(arr).max() > _EXACT_IN_FLOAT[target.itemsize]:
                return f"integers too large for {want}"
            if target.kind == "i" and arr.size and not _in_range(arr, want):
                return f"has integers out of the range of {want}"
            return arr if arr.dtype == target else arr.astype(target)
        if kind == "f":
            bad = _not_whole(arr, want)
            if bad is None:
                return arr.astype(target)
            return f"is {arr.dtype} with a value that is not a whole number ({bad}) but the signature wants {want}"
        return f"is {_describe(arr)} but the signature wants {want}"
    if want == "boolean":
        return arr if kind == "b" else f"is {_describe(arr)} but the signature wants boolean"
    if want in ("string", "binary"):
        if kind in "US" or (kind == "O" and all(isinstance(v, (str, bytes)) for v in arr.ravel())):
            return _as_text(arr) if want == "string" and kind in "OS" else arr
        return f"is {_describe(arr)} but the signature wants {want}"
    return arr  # datetime and composite types are left to the model's own check


def _in_range(arr: np.ndarray, want: str) -> bool:
    low, high = _INT_RANGE[want]
    return bool(arr.min() >= low and arr.max() <= high)


def _not_whole(arr: np.ndarray, want: str) -> float | None:
    """The first value of a float column that is no whole number within ``want``'s range
    (None when every value is one: JSON writers send 3.0 for 3, and MLflow's scorer takes it)."""
    low, high = _INT_RANGE[want]
    ok = np.isfinite(arr) & (arr == np.trunc(arr)) & (arr >= low) & (arr < high)
    if ok.all():
        return None
    return float(arr[~ok].flat[0])


def _as_text(arr: np.ndarray) -> np.ndarray | str:
    """Strings for a string column: bytes (V2 BYTES tensors) are read as UTF-8."""
    values = arr.ravel()
    if not any(isinstance(v, bytes) for v in values):
        return arr
    out = np.empty(values.shape, dtype=object)
    try:
        out[:] = [v.decode("utf-8") if isinstance(v, bytes) else v for v in values]
    except UnicodeDecodeError:
        return "has bytes that are not UTF-8 text but the signature wants string"
    return out.reshape(arr.shape)


def _describe(arr: np.ndarray) -> str:
    kind = arr.dtype.kind
    if kind == "O":
        values = arr.ravel()
        if any(v is None for v in values):
            return "missing values"
        if all(isinstance(v, str) for v in values):
            return "string"
        return "mixed values"
    return {"U": "string", "S": "bytes", "b": "boolean"}.get(kind, str(arr.dtype))


def _checked(specs: tuple[tuple[str, str, bool], ...], inputs: Inputs) -> tuple[list[str], list[np.ndarray]]:
    """The present columns in signature order, each converted for its type; ``BadRequest``
    naming every missing, unexpected and mistyped field."""
    _, _, typed = _plan(specs)
    problems: list[FieldProblem] = []
    columns = inputs.typed_columns() if typed else inputs.columns
    if inputs.names is None:
        if inputs.width != len(specs) or (inputs.matrix is not None and inputs.matrix.ndim != 2):
            raise invalid_input([FieldProblem("input", f"has {inputs.width} columns but the signature "
                                                       f"wants {len(specs)}: {', '.join(n for n, _, _ in specs)}")])
        by_name = {s[0]: c for s, c in zip(specs, columns)}
    else:
        by_name = dict(zip(inputs.names, columns))
        wanted = {n for n, _, _ in specs}
        problems += [FieldProblem(n, "missing") for n, _, req in specs if req and n not in by_name]
        problems += [FieldProblem(n, "unexpected") for n in inputs.names if n not in wanted]
    names: list[str] = []
    out: list[np.ndarray] = []
    for name, want, _ in specs:
        col = by_name.get(name)
        if col is None:
            continue
        if col.ndim != 1:
            col = col.reshape(-1) if col.ndim == 2 and col.shape[1] == 1 else col
        if col.ndim != 1 or col.shape[0] != inputs.rows:
            problems.append(FieldProblem(name, f"has shape {list(col.shape)} but every column needs {inputs.rows} rows"))
            continue
        fitted = _fits(col, want)
        if isinstance(fitted, str):
            problems.append(FieldProblem(name, fitted))
        else:
            names.append(name)
            out.append(fitted)
    if problems:
        raise invalid_input(problems)
    return names, out


def check_columns(specs: Sequence[tuple[str, str, bool]], inputs: Inputs) -> np.ndarray | list[np.ndarray]:
    """Check ``inputs`` against column specs ``(name, type, required)``; return the columns in
    signature order (one 2-D float block when every type is numeric) or raise ``BadRequest``
    naming every missing, unexpected and mistyped field."""
    specs = tuple(specs)
    numeric, ints, _ = _plan(specs)
    matrix = inputs.matrix
    if (numeric and matrix is not None and matrix.ndim == 2 and matrix.shape[1] == len(specs)
            and matrix.dtype.kind in "iuf" and (inputs.names is None or inputs.names == _order(specs))):
        fast = _as_block(matrix, specs, ints)  # the common case: one numeric block, in signature order
        if fast is not None:
            return fast
    _, out = _checked(specs, inputs)
    if numeric:
        return np.column_stack(out).astype(np.float64, copy=False) if out else np.empty((inputs.rows, 0))
    return out


def checked_inputs(specs: Sequence[tuple[str, str, bool]], inputs: Inputs) -> Inputs:
    """``inputs`` as named columns in signature order, each of its declared type (for models
    that take a table of typed columns rather than one float block)."""
    names, out = _checked(tuple(specs), inputs)
    return Inputs(names, out, inputs.rows, params=inputs.params, outputs=inputs.outputs, extra=inputs.extra)


@lru_cache(maxsize=64)
def _order(specs: tuple[tuple[str, str, bool], ...]) -> list[str]:
    return [n for n, _, _ in specs]


@lru_cache(maxsize=64)
def _plan(specs: tuple[tuple[str, str, bool], ...]) -> tuple[bool, tuple[tuple[int, str], ...] | None, bool]:
    """Whether every column type is numeric (booleans included); the integer columns
    ``(index, type)`` (None when a boolean column makes a numeric block unusable); whether
    any column needs the values' own types (booleans, strings, others)."""
    numeric = all(t in _NUMERIC or t == "boolean" for _, t, _ in specs)
    typed = any(t not in _NUMERIC for _, t, _ in specs)
    if any(t == "boolean" for _, t, _ in specs):
        return numeric, None, typed
    return numeric, tuple((i, t) for i, (_, t, _) in enumerate(specs) if _NUMERIC[t].kind == "i") if numeric else (), typed


def _as_block(matrix: np.ndarray, specs: tuple[tuple[str, str, bool], ...],
              ints: tuple[tuple[int, str], ...] | None) -> np.ndarray | None:
    """A numeric block as the float block the model gets, or None when a column needs a
    check of its own (booleans; floats that are not whole numbers for an integer column)."""
    if ints is None:
        return None
    if matrix.dtype.kind in "iu":
        if ints and not all(_in_range(matrix[:, i], t) for i, t in ints if t == "integer"):
            return None
        return matrix.astype(np.float64)
    if ints and not all(_not_whole(matrix[:, i], t) is None for i, t in ints):
        return None
    return matrix

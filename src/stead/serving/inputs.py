"""What a request carries once decoded: named (or positional) columns as numpy arrays.

Both protocol codecs (``oip``, ``scoring``) decode into ``Inputs``; the model runtime
checks them against the signature with ``check_columns`` (a pure function) and feeds
the model. No pandas here: a 2-D numeric block stays one array from JSON to the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from stead.errors import BadRequest

__all__ = ["Inputs", "FieldProblem", "invalid_input", "check_columns", "column_as_array"]

_NUMERIC: dict[str, np.dtype[Any]] = {"integer": np.dtype("int32"), "long": np.dtype("int64"),
            "float": np.dtype("float32"), "double": np.dtype("float64")}
_EXACT_IN_FLOAT = {4: 2**24, 8: 2**53}


class Inputs:
    """One request's data: ``columns[i]`` is named ``names[i]`` (``names`` is None when
    positional); ``matrix`` is the same data as one 2-D block when it arrived as one (then
    ``columns`` are views of it, made only when asked for)."""

    __slots__ = ("names", "_columns", "rows", "matrix", "params", "outputs", "extra")

    def __init__(self, names: list[str] | None, columns: list[np.ndarray] | None, rows: int,
                 matrix: np.ndarray | None = None, params: dict[str, Any] | None = None,
                 outputs: tuple[str, ...] = (), extra: dict[str, Any] | None = None) -> None:
        if columns is None and (matrix is None or matrix.ndim != 2):
            raise ValueError("Inputs needs columns, or a 2-D matrix to take them from")
        self.names = names
        self._columns = columns
        self.rows = rows
        self.matrix = matrix
        self.params = params
        self.outputs = outputs
        self.extra = extra if extra is not None else {}

    @property
    def columns(self) -> list[np.ndarray]:
        if self._columns is None:
            assert self.matrix is not None
            self._columns = [self.matrix[:, i] for i in range(self.matrix.shape[1])]
        return self._columns

    @property
    def width(self) -> int:
        """How many columns."""
        return self.matrix.shape[1] if self._columns is None and self.matrix is not None else len(self.columns)

    @classmethod
    def from_matrix(cls, matrix: np.ndarray, names: list[str] | None = None) -> "Inputs":
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1) if names is not None or matrix.dtype.kind not in "iufb" else matrix
        if matrix.ndim == 2:
            return cls(names, None, int(matrix.shape[0]), matrix)
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
            return arr
        if kind == "f" and target.kind in "iu":
            return f"is {arr.dtype} but the signature wants {want}"
        return f"is {_describe(arr)} but the signature wants {want}"
    if want == "boolean":
        return arr if kind == "b" else f"is {_describe(arr)} but the signature wants boolean"
    if want in ("string", "binary"):
        if kind in "US" or (kind == "O" and all(isinstance(v, (str, bytes)) for v in arr.ravel())):
            return arr
        return f"is {_describe(arr)} but the signature wants {want}"
    return arr  # datetime and composite types are left to the model's own check


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


def check_columns(specs: Sequence[tuple[str, str, bool]], inputs: Inputs) -> np.ndarray | list[np.ndarray]:
    """Check ``inputs`` against column specs ``(name, type, required)``; return the columns in
    signature order (one 2-D float block when every type is numeric) or raise ``BadRequest``
    naming every missing, unexpected and mistyped field."""
    numeric, kinds = _plan(tuple(specs))
    matrix = inputs.matrix
    if (inputs.names is None and numeric and matrix is not None and matrix.ndim == 2
            and matrix.shape[1] == len(specs) and matrix.dtype.kind in "iuf"):
        fast = _as_block(matrix, kinds)  # the common case: one numeric block, in signature order
        if fast is not None:
            return fast
    problems: list[FieldProblem] = []
    if inputs.names is None:
        if inputs.width != len(specs) or (matrix is not None and matrix.ndim != 2):
            raise invalid_input([FieldProblem("input", f"has {inputs.width} columns but the signature "
                                                       f"wants {len(specs)}: {', '.join(n for n, _, _ in specs)}")])
        by_name = {s[0]: c for s, c in zip(specs, inputs.columns)}
    else:
        by_name = dict(zip(inputs.names, inputs.columns))
        wanted = {n for n, _, _ in specs}
        problems += [FieldProblem(n, "missing") for n, _, req in specs if req and n not in by_name]
        problems += [FieldProblem(n, "unexpected") for n in inputs.names if n not in wanted]
        if inputs.names != [n for n, _, _ in specs]:
            matrix = None
    out: list[np.ndarray] = []
    if matrix is not None and numeric and matrix.dtype.kind in "iuf" and not problems:
        fast = _as_block(matrix, kinds)
        if fast is not None:
            return fast
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
            out.append(fitted)
    if problems:
        raise invalid_input(problems)
    if numeric:
        return np.column_stack(out).astype(np.float64, copy=False) if out else np.empty((inputs.rows, 0))
    return out


@lru_cache(maxsize=64)
def _plan(specs: tuple[tuple[str, str, bool], ...]) -> tuple[bool, frozenset[str]]:
    """Whether every column type is numeric, and the dtype kinds the numeric types want."""
    numeric = all(t in _NUMERIC or t == "boolean" for _, t, _ in specs)
    return numeric, frozenset(_NUMERIC[t].kind for _, t, _ in specs if t in _NUMERIC)


def _as_block(matrix: np.ndarray, kinds: frozenset[str]) -> np.ndarray | None:
    """A numeric block as the float block the model gets, or None when a column needs a check."""
    if kinds <= {"f"} or matrix.dtype.kind in "iu" and kinds <= {"i", "u", "f"}:
        return matrix if matrix.dtype.kind == "f" else matrix.astype(np.float64)
    return None

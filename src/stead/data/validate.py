"""``validate``: check a version's tabular files against declared expectations.

An expectations file (YAML)::

    files: "*.csv"              # which tabular files (a glob; default: all of them)
    row_count: {min: 1000, max: 5000000}
    columns:
      id:      {type: int, not_null: true, unique: true}
      age:     {type: int, min: 0, max: 120}
      country: {type: string, allowed: [FR, DE, IT]}
      score:   {type: float, not_null: true}
    strict_columns: false       # true: no columns beyond those listed

Types: ``int``, ``float``, ``number``, ``string``, ``bool``, ``timestamp``, ``date`` or an
exact Arrow type (``int64``). Pure functions over pyarrow tables; the API and CLI only
load the tables.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    import pyarrow as pa

    from stead.data.cache import Cache
    from stead.data.manifest import Manifest

__all__ = ["Check", "ValidationReport", "load_expectations", "check_table", "validate_files"]

_KEYS = {"files", "row_count", "columns", "strict_columns"}
_COL_KEYS = {"type", "not_null", "unique", "min", "max", "allowed"}


@dataclass(frozen=True)
class Check:
    file: str
    check: str
    column: str | None
    ok: bool
    detail: str


@dataclass
class ValidationReport:
    target: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def summary(self) -> str:
        f = self.failures
        if not f:
            return f"all {len(self.checks)} checks passed"
        shown = "; ".join(f"{c.file}:{c.column or ''} {c.check}: {c.detail}" for c in f[:3])
        return f"{len(f)} of {len(self.checks)} checks failed ({shown})"

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "ok": self.ok, "checks": [c.__dict__ for c in self.checks]}


def load_expectations(source: "str | os.PathLike[str] | dict[str, Any]") -> dict[str, Any]:
    if isinstance(source, dict):
        exp = source
    else:
        import yaml

        path = Path(source)
        if not path.is_file():
            raise NotFound(f"Expectations file {path} does not exist")
        try:
            exp = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise InvalidParameter(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(exp, dict):
        raise InvalidParameter("Expectations must be a mapping with keys files, row_count, columns")
    unknown = set(exp) - _KEYS
    if unknown:
        raise InvalidParameter(f"Unknown expectation keys {sorted(unknown)}; known: {sorted(_KEYS)}")
    for col, spec in (exp.get("columns") or {}).items():
        if not isinstance(spec, dict) or set(spec) - _COL_KEYS:
            raise InvalidParameter(f"Expectations for column {col!r} must be a mapping with keys {sorted(_COL_KEYS)}")
    return exp


def _type_ok(expected: str, actual: "pa.DataType") -> bool:
    import pyarrow.types as pt

    e = str(expected).lower()
    groups = {
        "int": pt.is_integer,
        "integer": pt.is_integer,
        "float": pt.is_floating,
        "number": lambda t: pt.is_integer(t) or pt.is_floating(t) or pt.is_decimal(t),
        "string": lambda t: pt.is_string(t) or pt.is_large_string(t),
        "str": lambda t: pt.is_string(t) or pt.is_large_string(t),
        "bool": pt.is_boolean,
        "boolean": pt.is_boolean,
        "timestamp": pt.is_timestamp,
        "date": pt.is_date,
    }
    if e in groups:
        return bool(groups[e](actual))
    return str(actual) == e


def check_table(table: "pa.Table", exp: dict[str, Any], file: str) -> list[Check]:
    """Every expectation of ``exp`` checked on ``table`` (pure)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out: list[Check] = []
    rc = exp.get("row_count") or {}
    if rc:
        n = table.num_rows
        lo, hi = rc.get("min"), rc.get("max")
        ok = (lo is None or n >= lo) and (hi is None or n <= hi)
        out.append(Check(file, "row_count", None, ok, f"{n} rows, expected {lo if lo is not None else '-'}..{hi if hi is not None else '-'}"))
    cols = exp.get("columns") or {}
    if exp.get("strict_columns"):
        extra = sorted(set(table.column_names) - set(cols))
        out.append(Check(file, "strict_columns", None, not extra, f"unexpected columns {extra}" if extra else "no extra columns"))
    for name, spec in cols.items():
        if name not in table.column_names:
            out.append(Check(file, "exists", name, False, f"column missing (has {table.column_names})"))
            continue
        col = table.column(name)
        if "type" in spec:
            ok = _type_ok(spec["type"], col.type)
            out.append(Check(file, "type", name, ok, f"is {col.type}, expected {spec['type']}"))
        if spec.get("not_null"):
            out.append(Check(file, "not_null", name, col.null_count == 0, f"{col.null_count} nulls"))
        if spec.get("unique"):
            distinct = pc.count_distinct(col, mode="only_valid").as_py()
            dups = (len(col) - col.null_count) - distinct
            out.append(Check(file, "unique", name, dups == 0, f"{dups} duplicate values"))
        if "min" in spec or "max" in spec:
            try:
                mm = pc.min_max(col)
                lo_v, hi_v = mm["min"].as_py(), mm["max"].as_py()
                lo, hi = spec.get("min"), spec.get("max")
                bad = 0
                if lo is not None:
                    bad += pc.sum(pc.less(col, pa.scalar(lo).cast(col.type) if pa.types.is_integer(col.type) and isinstance(lo, int) else lo)).as_py() or 0
                if hi is not None:
                    bad += pc.sum(pc.greater(col, pa.scalar(hi).cast(col.type) if pa.types.is_integer(col.type) and isinstance(hi, int) else hi)).as_py() or 0
                out.append(Check(file, "range", name, bad == 0,
                                 f"values in [{lo_v}, {hi_v}], expected [{lo if lo is not None else '-'}, {hi if hi is not None else '-'}]; {bad} out of range"))
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                out.append(Check(file, "range", name, False, f"cannot compare {col.type} with the bounds: {exc}"))
        if "allowed" in spec:
            allowed = list(spec["allowed"])
            try:
                mask = pc.is_in(col, value_set=pa.array(allowed).cast(col.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                mask = pc.is_in(col.cast(pa.string()), value_set=pa.array([str(a) for a in allowed]))
            bad_vals = pc.filter(col, pc.invert(pc.fill_null(mask, True)))
            n_bad = len(bad_vals)
            sample = sorted({str(v) for v in bad_vals.slice(0, 1000).to_pylist()})[:5]
            out.append(Check(file, "allowed", name, n_bad == 0,
                             f"{n_bad} values outside the allowed set" + (f", e.g. {sample}" if sample else "")))
    return out


def validate_files(cache: "Cache", manifest: "Manifest", exp: dict[str, Any], *, label: str) -> ValidationReport:
    from stead.data.profile import is_tabular, read_table

    pattern = exp.get("files")
    files = [rel for rel in manifest.files if is_tabular(rel) and (not pattern or fnmatch.fnmatch(rel, pattern))]
    report = ValidationReport(label)
    if not files:
        report.checks.append(Check("", "files", None, False, f"no tabular file matches {pattern or '*.csv/*.parquet'}"))
        return report
    for rel in files:
        digest, size = manifest.files[rel]
        if not cache.verify(digest, size):
            report.checks.append(Check(rel, "readable", None, False,
                                       f"cache object {cache.path(digest)} is missing or corrupt; run `stead data pull`"))
            continue
        report.checks += check_table(read_table(cache.path(digest), rel), exp, rel)
    return report

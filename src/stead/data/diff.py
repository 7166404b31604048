"""``diff``: what changed between two versions: files, schemas and distributions.

Pure functions over manifests and stored profiles: nothing is re-read.
A numeric column "shifts" when its mean moves by more than ``MEAN_SHIFT`` standard
deviations or its null fraction by more than ``NULL_SHIFT``; a categorical one when the
total variation distance between its top-category shares exceeds ``CATEGORY_SHIFT``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stead.data.manifest import Manifest, ManifestDiff, diff_manifests
from stead.data.records import DatasetVersion

__all__ = ["VersionDiff", "diff_versions", "diff_profiles", "MEAN_SHIFT", "NULL_SHIFT", "CATEGORY_SHIFT"]

MEAN_SHIFT = 0.1
NULL_SHIFT = 0.05
CATEGORY_SHIFT = 0.1


@dataclass
class VersionDiff:
    a: str
    b: str
    files: ManifestDiff
    bytes_before: int
    bytes_after: int
    schema: list[dict[str, Any]] = field(default_factory=list)  # {file, column, change, before, after}
    shifts: list[dict[str, Any]] = field(default_factory=list)  # {file, column, metric, before, after}

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "files": self.files.to_json(),
            "bytes": [self.bytes_before, self.bytes_after],
            "schema": self.schema,
            "shifts": self.shifts,
        }


def _shares(top: list[list[Any]], count: int) -> dict[str, float]:
    return {str(k): c / count for k, c in top} if count else {}


def diff_profiles(file: str, pa_: dict[str, Any], pb: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    schema: list[dict[str, Any]] = []
    shifts: list[dict[str, Any]] = []
    ca, cb = pa_.get("columns", {}), pb.get("columns", {})
    for col in sorted(set(ca) | set(cb)):
        if col not in ca:
            schema.append({"file": file, "column": col, "change": "added", "before": None, "after": cb[col]["type"]})
            continue
        if col not in cb:
            schema.append({"file": file, "column": col, "change": "removed", "before": ca[col]["type"], "after": None})
            continue
        x, y = ca[col], cb[col]
        if x["type"] != y["type"]:
            schema.append({"file": file, "column": col, "change": "type", "before": x["type"], "after": y["type"]})
        if abs(y.get("null_fraction", 0) - x.get("null_fraction", 0)) > NULL_SHIFT:
            shifts.append({"file": file, "column": col, "metric": "null_fraction",
                           "before": x.get("null_fraction"), "after": y.get("null_fraction")})
        if x.get("mean") is not None and y.get("mean") is not None:
            scale = x.get("std") or abs(x["mean"]) or 1.0
            moved = abs(y["mean"] - x["mean"]) / scale
            if moved > MEAN_SHIFT:
                shifts.append({"file": file, "column": col, "metric": "mean", "before": x["mean"],
                               "after": y["mean"], "std_units": round(moved, 3)})
            if x.get("std") and y.get("std") is not None and abs(y["std"] - x["std"]) / x["std"] > 0.2:
                shifts.append({"file": file, "column": col, "metric": "std", "before": x["std"], "after": y["std"]})
        if x.get("top") is not None and y.get("top") is not None:
            sa = _shares(x["top"], x["count"] - round(x["null_fraction"] * x["count"]))
            sb = _shares(y["top"], y["count"] - round(y["null_fraction"] * y["count"]))
            tvd = 0.5 * sum(abs(sa.get(k, 0.0) - sb.get(k, 0.0)) for k in set(sa) | set(sb))
            if tvd > CATEGORY_SHIFT:
                shifts.append({"file": file, "column": col, "metric": "categories", "before": x["top"][:5],
                               "after": y["top"][:5], "distance": round(tvd, 3)})
    if pa_.get("rows") != pb.get("rows"):
        shifts.append({"file": file, "column": None, "metric": "rows", "before": pa_.get("rows"), "after": pb.get("rows")})
    return schema, shifts


def diff_versions(va: DatasetVersion, ma: Manifest, vb: DatasetVersion, mb: Manifest) -> VersionDiff:
    d = VersionDiff(va.uri, vb.uri, diff_manifests(ma.files, mb.files), ma.num_bytes, mb.num_bytes)
    pa_, pb = va.profile or {}, vb.profile or {}
    for file in sorted(set(pa_) & set(pb)):
        if "columns" in pa_[file] and "columns" in pb[file]:
            schema, shifts = diff_profiles(file, pa_[file], pb[file])
            d.schema += schema
            d.shifts += shifts
    return d

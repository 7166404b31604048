"""One multivariate drift signal: PCA reconstruction error, as NannyML computes it.

Numeric features are imputed (column mean), standardized and projected on the principal
components that keep 65% of the reference's variance; the error of a row is the Euclidean
distance between it and its reconstruction. A change in how the features move *together*
raises the error even when every feature's own distribution looks unchanged. The fitted
model (means, scales, components) lives in the reference statistics, so checking needs no
raw reference data. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stead.errors import InvalidParameter

__all__ = ["PCAModel", "MultivariateDrift", "fit_pca", "reconstruction_errors", "multivariate_drift"]


@dataclass(frozen=True)
class PCAModel:
    """A fitted PCA plus the reference's reconstruction error: ``error_mean`` and ``error_std``
    over ``chunks`` chunks of ``chunk_rows`` held-out reference rows (NannyML's 10 chunks)."""

    columns: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    center: tuple[float, ...]
    components: tuple[tuple[float, ...], ...]
    explained: float
    error_mean: float
    error_std: float
    chunk_rows: int
    chunks: int

    def to_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "means": list(self.means), "scales": list(self.scales),
                "center": list(self.center), "components": [list(c) for c in self.components],
                "explained": self.explained, "error_mean": self.error_mean, "error_std": self.error_std,
                "chunk_rows": self.chunk_rows, "chunks": self.chunks}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PCAModel:
        return cls(columns=tuple(d["columns"]), means=tuple(d["means"]), scales=tuple(d["scales"]),
                   center=tuple(d["center"]), components=tuple(tuple(c) for c in d["components"]),
                   explained=float(d["explained"]), error_mean=float(d["error_mean"]),
                   error_std=float(d["error_std"]), chunk_rows=int(d["chunk_rows"]), chunks=int(d["chunks"]))


@dataclass(frozen=True)
class MultivariateDrift:
    """The current window's mean reconstruction error against the reference band."""

    error: float | None
    lower: float
    upper: float
    drifted: bool | None
    rows: int
    method: str = "pca_reconstruction_error"

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "error": self.error, "lower": self.lower, "upper": self.upper,
                "drifted": self.drifted, "rows": self.rows}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MultivariateDrift:
        return cls(error=d["error"], lower=float(d["lower"]), upper=float(d["upper"]), drifted=d["drifted"],
                   rows=int(d["rows"]), method=d.get("method", "pca_reconstruction_error"))


def fit_pca(matrix: np.ndarray, columns: list[str], *, variance: float = 0.65, chunks: int = 10) -> PCAModel:
    """Fit on half of the rows and measure the error on the other half (an in-sample error
    would be optimistic and make same-distribution data look drifted)."""
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(columns) or x.shape[0] < 2 * chunks:
        raise InvalidParameter(f"PCA needs a (rows x {len(columns)}) matrix with at least {2 * chunks} rows, "
                               f"got shape {x.shape}")
    if not 0 < variance < 1:
        raise InvalidParameter(f"variance must be between 0 and 1, got {variance}")
    z = np.array(x, dtype=np.float64)  # the one copy: everything below works in place
    z[~np.isfinite(z)] = np.nan
    with np.errstate(all="ignore"):
        means = np.nanmean(z, axis=0)
    means = np.where(np.isfinite(means), means, 0.0)
    np.copyto(z, means, where=np.isnan(z))
    z -= means
    scales = np.sqrt(np.einsum("ij,ij->j", z, z) / len(z))
    scales = np.where(scales > 0, scales, 1.0)
    z /= scales
    fit, held = z[0::2], z[1::2]
    center = fit.mean(axis=0)
    centered = fit - center
    evals, evecs = np.linalg.eigh(centered.T @ centered)  # d x d: cheap for any number of rows
    order = np.argsort(evals)[::-1]
    evals, vt = np.maximum(evals[order], 0.0), evecs[:, order].T
    ratio = evals / max(float(evals.sum()), 1e-300)
    k = min(int(np.searchsorted(np.cumsum(ratio), variance, side="right")) + 1, len(evals))
    model = PCAModel(columns=tuple(columns), means=tuple(means.tolist()), scales=tuple(scales.tolist()),
                     center=tuple(center.tolist()), components=tuple(map(tuple, vt[:k].tolist())),
                     explained=float(ratio[:k].sum()), error_mean=0.0, error_std=0.0,
                     chunk_rows=len(held) // chunks, chunks=chunks)
    per_chunk = [float(c.mean()) for c in np.array_split(_errors(model, held), chunks)]
    return PCAModel(**{**model.__dict__, "error_mean": float(np.mean(per_chunk)),
                       "error_std": float(np.std(per_chunk, ddof=1))})


def _errors(model: PCAModel, z: np.ndarray) -> np.ndarray:
    v = np.asarray(model.components)
    c = z - np.asarray(model.center)
    proj = c @ v.T
    return np.sqrt(np.maximum(np.einsum("ij,ij->i", c, c) - np.einsum("ij,ij->i", proj, proj), 0.0))


def reconstruction_errors(model: PCAModel, matrix: np.ndarray) -> np.ndarray:
    """Per-row reconstruction error of raw rows (columns in ``model.columns`` order), worked
    out in blocks of rows so that memory stays a few times one block."""
    x = np.asarray(matrix, dtype=np.float64)
    means, scales = np.asarray(model.means), np.asarray(model.scales)
    out = np.empty(len(x))
    for start in range(0, len(x), 16_384):
        block = x[start:start + 16_384]
        block = np.where(np.isfinite(block), block, means)
        out[start:start + len(block)] = _errors(model, (block - means) / scales)
    return out


def multivariate_drift(model: PCAModel, matrix: np.ndarray) -> MultivariateDrift:
    """Drifted when the window's mean error leaves mean ± 3 std of the reference chunks; for
    a window smaller than a chunk the band widens by sqrt(chunk rows / window rows)."""
    rows = len(matrix)
    widen = np.sqrt(model.chunk_rows / min(max(rows, 1), model.chunk_rows)) if model.chunk_rows else 1.0
    half = 3.0 * model.error_std * float(widen)
    lower, upper = model.error_mean - half, model.error_mean + half
    if rows == 0:
        return MultivariateDrift(error=None, lower=lower, upper=upper, drifted=None, rows=0)
    error = float(reconstruction_errors(model, matrix).mean())
    return MultivariateDrift(error=error, lower=lower, upper=upper, drifted=not lower <= error <= upper, rows=rows)

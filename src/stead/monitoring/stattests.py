"""The drift tests Evidently uses, computed from counts instead of raw columns.

Each function takes what the reference statistics store (values, value counts, histogram
buckets) and what one pass over the current column gives (counts on the same buckets), and
returns what scipy returns on the raw data: ``ks_2samp``'s statistic and p-value, ``chisquare``,
``wasserstein_distance`` and ``jensenshannon``. The tests in tests/monitoring check that.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ks_statistic", "ks_pvalue", "chisquare", "z_test", "wasserstein", "jensenshannon", "psi"]


def ks_statistic(ref_cdf: np.ndarray, cur_le: np.ndarray, cur_lt: np.ndarray, n_cur: int) -> float:
    """Two-sample KS D. ``ref_cdf[j]`` is the reference ECDF at its j-th distinct value u_j;
    ``cur_le[j]`` / ``cur_lt[j]`` count current values <= u_j / < u_j. Between two reference
    values the reference ECDF is flat, so the supremum is at one of these points."""
    if n_cur == 0 or len(ref_cdf) == 0:
        return 0.0
    before = np.concatenate([[0.0], ref_cdf[:-1]])
    d1 = np.abs(ref_cdf - cur_le / n_cur).max()
    d2 = np.abs(before - cur_lt / n_cur).max()
    return float(max(d1, d2))


def ks_pvalue(d: float, n_ref: int, n_cur: int) -> float:
    """Smirnov's asymptotic two-sided p-value, as ``ks_2samp(method="asymp")`` computes it."""
    from scipy.stats import kstwo

    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    return float(np.clip(kstwo.sf(d, np.round(m * n / (m + n))), 0.0, 1.0))


def chisquare(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Pearson's chi-squared test of homogeneity on the 2 x k table (reference, current) x
    category, as ``scipy.stats.chi2_contingency(table, correction=False)``.

    Evidently runs a goodness-of-fit test instead (``chisquare`` of the current counts against
    the reference shares, as if those were exact); with two samples of similar size that
    doubles the statistic's variance and raises false alarms to about 30% at a nominal 5%.
    The homogeneity test keeps the nominal rate and, for two values, is the z-test squared.
    """
    from scipy.stats import chi2

    table = np.vstack([np.asarray(ref_counts, dtype=np.float64), np.asarray(cur_counts, dtype=np.float64)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    return stat, float(chi2.sf(stat, table.shape[1] - 1))


def z_test(ref_first: int, n_ref: int, cur_first: int, n_cur: int) -> tuple[float, float]:
    """Two-proportion z-test on a two-valued column (Evidently's ``z``): the share of rows not
    equal to the first (smallest) value, reference against current; two-sided p-value."""
    from scipy.stats import norm

    p1 = (n_ref - ref_first) / n_ref
    p2 = (n_cur - cur_first) / n_cur
    pooled = (p1 * n_ref + p2 * n_cur) / (n_ref + n_cur)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
    if se == 0:
        return 0.0, 1.0
    z = (p1 - p2) / se
    return z, float(2 * norm.sf(abs(z)))


def wasserstein(edges: np.ndarray, ref_counts: np.ndarray, ref_offsets: np.ndarray,
                cur_counts: np.ndarray, cur_offsets: np.ndarray) -> float:
    """Wasserstein-1 distance between two samples bucketed on the same ``edges``.

    W1 is the integral of |F_ref - F_cur|. Per bucket the integral of each ECDF is exact
    from its count and offset sum; the integral of the absolute difference is exact unless the
    two ECDFs cross inside a bin. Below the first edge F_ref is 0 and above the last it is 1
    (the edges are the reference's min and max), so the tails are exact too.
    """
    edges = np.asarray(edges, dtype=np.float64)
    rc, cc = np.asarray(ref_counts, dtype=np.float64), np.asarray(cur_counts, dtype=np.float64)
    nr, nc = rc.sum(), cc.sum()
    if nr == 0 or nc == 0:
        return math.nan
    width = np.diff(edges)

    def integrals(counts: np.ndarray, offsets: np.ndarray, n: float) -> np.ndarray:
        before = np.cumsum(counts)[:-2]  # values below each inner bin's left edge
        inner = counts[1:-1] * width - np.asarray(offsets, dtype=np.float64)[1:-1]
        return (before * width + inner) / n

    w = float(np.abs(integrals(rc, ref_offsets, nr) - integrals(cc, cur_offsets, nc)).sum())
    below = -float(cur_offsets[0]) / nc  # F_cur integrated below the reference minimum
    above_cur = float(cur_offsets[-1]) / nc  # (1 - F) integrated above the last edge, each side
    above_ref = float(ref_offsets[-1]) / nr
    return w + below + abs(above_cur - above_ref)


def jensenshannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log), as ``scipy.spatial.distance.jensenshannon``."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(p > 0, p * np.log(p / m), 0.0).sum() + np.where(q > 0, q * np.log(q / m), 0.0).sum()
    return float(np.sqrt(max(kl / 2, 0.0)))


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Population stability index over matching buckets; empty buckets get Evidently's small
    share (the smallest non-zero share / 1e6, or 1e-4) instead of 0."""
    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    if r.sum() == 0 or c.sum() == 0:
        return math.nan
    r, c = _fill(r / r.sum()), _fill(c / c.sum())
    return float(np.sum((r - c) * np.log(r / c)))


def _fill(share: np.ndarray) -> np.ndarray:
    nonzero = share[share > 0]
    small = nonzero.min() / 1e6 if nonzero.size and nonzero.min() <= 1e-4 else 1e-4
    return np.where(share == 0, small, share)

"""Small statistical building blocks shared by the performance, judge and A/B modules.

Written over numpy (the normal distribution through ``math.erfc``) so that each test is a
few lines one can check against scipy, and so that judging a canary does not import scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from stead.errors import InvalidParameter

__all__ = [
    "Alternative",
    "normal_sf",
    "normal_ppf",
    "average_ranks",
    "as_array",
    "kth_pairwise_difference",
    "MannWhitney",
    "mann_whitney",
    "TwoProportions",
    "two_proportions",
]

Alternative = Literal["two-sided", "greater", "less"]


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def normal_ppf(q: float) -> float:
    """The q-quantile of the standard normal (Acklam's rational approximation, refined by
    one Halley step: about 1e-15 relative error, no scipy needed)."""
    if not 0.0 < q < 1.0:
        raise InvalidParameter(f"a normal quantile needs 0 < q < 1, got {q}")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)
    low = 0.02425
    if q < low:
        t = math.sqrt(-2 * math.log(q))
        x = (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) / (
            (((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1)
    elif q > 1 - low:
        t = math.sqrt(-2 * math.log(1 - q))
        x = -(((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) / (
            (((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1)
    else:
        s = q - 0.5
        r = s * s
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * s / (
            ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    e = 0.5 * math.erfc(-x / math.sqrt(2)) - q
    u = e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    return x - u / (1 + x * u / 2)


def as_array(values: Any, name: str, *, dtype: Any = None) -> np.ndarray:
    """A 1-D numpy array from a list, numpy array or pyarrow array/chunked array."""
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        try:
            values = values.to_numpy(zero_copy_only=False)
        except TypeError:
            values = values.to_numpy()
    array = np.asarray(values, dtype=dtype)
    if array.ndim != 1:
        raise InvalidParameter(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def average_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based ranks with ties given their average rank (as ``scipy.stats.rankdata``), and
    the size of each tie group (for tie corrections)."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, ordered.size])
    # a tie group spanning positions s..s+c-1 (0-based) has average rank s + (c + 1) / 2
    group_rank = starts + (counts + 1) / 2.0
    ranks = np.empty(values.size, dtype=float)
    ranks[order] = np.repeat(group_rank, counts)
    return ranks, counts


def kth_pairwise_difference(x: np.ndarray, y: np.ndarray, k: float) -> float:
    """The k-th smallest (1-based, k may be fractional: then the interpolated value) of all
    ``x_i - y_j``, without building the n*m differences: bisection on the value, counting
    the differences below it with a sorted search. O((n + m) log(n + m)) per step."""
    xs = np.sort(x.astype(float))
    ys = np.sort(y.astype(float))
    total = xs.size * ys.size
    lower = math.floor(k)
    upper = math.ceil(k)
    lo_value = _kth(xs, ys, max(1, min(total, lower)))
    if upper == lower:
        return lo_value
    hi_value = _kth(xs, ys, max(1, min(total, upper)))
    return lo_value + (k - lower) * (hi_value - lo_value)


def _count_at_most(xs: np.ndarray, ys: np.ndarray, t: float) -> int:
    # x_i - y_j <= t  <=>  y_j >= x_i - t
    return int((ys.size - np.searchsorted(ys, xs - t, side="left")).sum())


def _kth(xs: np.ndarray, ys: np.ndarray, k: int) -> float:
    lo = float(xs[0] - ys[-1])  # the smallest difference; count(lo) >= 1
    hi = float(xs[-1] - ys[0])  # the largest; count(hi) == n * m
    if _count_at_most(xs, ys, lo) >= k:
        return lo
    for _ in range(200):
        mid = lo + (hi - lo) / 2
        if mid <= lo or mid >= hi:
            break
        if _count_at_most(xs, ys, mid) >= k:
            hi = mid
        else:
            lo = mid
    # the k-th difference lies in (lo, hi]: snap to the real difference there
    candidates = xs[:, None] - ys[None, :] if xs.size * ys.size <= 4096 else None
    if candidates is not None:
        return float(np.sort(candidates, axis=None)[k - 1])
    # for each x_i the largest difference <= hi comes from the smallest y_j >= x_i - hi
    near = np.searchsorted(ys, xs - hi, side="left")
    found = near < ys.size
    values = xs[found] - ys[near[found]]
    inside = values[(values > lo) & (values <= hi)]
    return float(inside.max()) if inside.size else hi


@dataclass(frozen=True)
class MannWhitney:
    """Mann-Whitney U of ``x`` against ``y`` (normal approximation with tie and continuity
    corrections, as ``scipy.stats.mannwhitneyu(method="asymptotic")``), with the
    Hodges-Lehmann shift of x relative to y and its distribution-free confidence interval."""

    u: float
    p_value: float
    z: float
    shift: float
    shift_low: float
    shift_high: float
    n_x: int
    n_y: int


def mann_whitney(
    x: Any, y: Any, *, alternative: Alternative = "two-sided", confidence: float = 0.95
) -> MannWhitney:
    """Compare two samples; ``shift`` estimates how far x lies above y (median of x_i - y_j)."""
    xs = as_array(x, "x", dtype=float)
    ys = as_array(y, "y", dtype=float)
    n1, n2 = xs.size, ys.size
    if n1 == 0 or n2 == 0:
        raise InvalidParameter("Mann-Whitney U needs at least one value in each sample")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise InvalidParameter("Mann-Whitney U needs finite values (drop NaN and inf first)")
    ranks, ties = average_ranks(np.concatenate([xs, ys]))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    n = n1 + n2
    mean = n1 * n2 / 2
    tie_term = float((ties**3 - ties).sum())
    var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        z, p = 0.0, 1.0
    else:
        sd = math.sqrt(var)
        if alternative == "greater":
            z = (u1 - mean - 0.5) / sd
            p = normal_sf(z)
        elif alternative == "less":
            z = (u1 - mean + 0.5) / sd
            p = normal_sf(-z)
        elif alternative == "two-sided":
            big = max(u1, n1 * n2 - u1)
            z = (big - mean - 0.5) / sd
            p = min(1.0, 2 * normal_sf(z))
        else:
            raise InvalidParameter(f"alternative must be two-sided, greater or less, got {alternative!r}")
    total = n1 * n2
    shift = kth_pairwise_difference(xs, ys, (total + 1) / 2)
    # the interval is the C-th and (nm - C + 1)-th ordered difference, C from the normal
    # approximation of U's distribution (as R's wilcox.test and Kayenta do)
    half = normal_ppf(0.5 + confidence / 2) * math.sqrt(n1 * n2 * (n + 1) / 12)
    c = max(1, math.floor(total / 2 - half))
    low = kth_pairwise_difference(xs, ys, c)
    high = kth_pairwise_difference(xs, ys, total - c + 1)
    return MannWhitney(u1, float(p), float(z), shift, low, high, n1, n2)


@dataclass(frozen=True)
class TwoProportions:
    """A two-proportion z-test (pooled standard error) of ``k1/n1`` against ``k2/n2``."""

    rate_1: float
    rate_2: float
    difference: float
    z: float
    p_value: float
    n_1: int
    n_2: int


def two_proportions(
    k1: int, n1: int, k2: int, n2: int, *, alternative: Alternative = "two-sided"
) -> TwoProportions:
    """Is the first rate different from (``greater``: above, ``less``: below) the second?"""
    if n1 <= 0 or n2 <= 0:
        raise InvalidParameter("a two-proportion test needs at least one trial in each group")
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise InvalidParameter(f"successes must lie between 0 and the trials: {k1}/{n1}, {k2}/{n2}")
    r1, r2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        z, p = 0.0, 1.0
    else:
        z = (r1 - r2) / se
        if alternative == "greater":
            p = normal_sf(z)
        elif alternative == "less":
            p = normal_sf(-z)
        elif alternative == "two-sided":
            p = min(1.0, 2 * normal_sf(abs(z)))
        else:
            raise InvalidParameter(f"alternative must be two-sided, greater or less, got {alternative!r}")
    return TwoProportions(r1, r2, r1 - r2, float(z), float(p), n1, n2)

"""The A/B verdict: which variant is better on a metric, with a p-value that stays valid
however often the report is looked at.

A classical test read again and again while the data grows (and stopped when it first
says "significant") rejects a true null far more often than its alpha. The mixture
sequential probability ratio test (mSPRT, Johari, Pekelis and Walsh, "Always valid
inference", 2017, as Optimizely's Stats Engine runs it) gives instead a p-value that is
valid at any stopping time: the likelihood ratio of "the difference is theta", averaged
over theta ~ Normal(0, tau^2), against "the difference is 0". ``tau`` is the size of
effect one expects; it defaults to the minimum effect of interest. Variances are plugged
in from the data, so the guarantee is asymptotic; hence ``min_samples`` before any verdict.

"Samples still needed" uses the fixed-horizon power formula of a two-sample z-test, the
usual planning figure; a sequential test typically needs somewhat more to reach the same
power, and it may stop earlier when the effect is larger than planned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from stead.errors import InvalidParameter
from stead.monitoring.stats import as_array, normal_ppf

__all__ = [
    "Kind",
    "VariantSummary",
    "ABReport",
    "msprt_p_value",
    "msprt_interval",
    "samples_needed",
    "ab_report",
]

Kind = Literal["proportion", "mean"]


@dataclass(frozen=True)
class VariantSummary:
    """n, mean and variance of one variant's metric, with a fixed-n confidence interval
    for the mean (Wilson's for proportions, normal for means)."""

    name: str
    n: int
    mean: float
    variance: float
    ci_low: float
    ci_high: float

    @classmethod
    def of(cls, name: str, values: Any, kind: Kind, confidence: float = 0.95) -> VariantSummary:
        x = as_array(values, f"the values of variant {name}", dtype=float)
        x = x[np.isfinite(x)]
        n = int(x.size)
        if n == 0:
            return cls(name, 0, math.nan, math.nan, math.nan, math.nan)
        mean = float(x.mean())
        z = normal_ppf(0.5 + confidence / 2)
        if kind == "proportion":
            if not np.isin(x, (0.0, 1.0)).all():
                raise InvalidParameter(f"a proportion needs 0/1 values; variant {name} has others")
            variance = mean * (1 - mean)
            centre = (mean + z * z / (2 * n)) / (1 + z * z / n)
            half = z / (1 + z * z / n) * math.sqrt(variance / n + z * z / (4 * n * n))
            return cls(name, n, mean, variance, centre - half, centre + half)
        variance = float(x.var(ddof=1)) if n > 1 else 0.0
        half = z * math.sqrt(variance / n)
        return cls(name, n, mean, variance, mean - half, mean + half)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VariantSummary:
        return cls(
            str(data["name"]), int(data["n"]), *(_float(data[k]) for k in ("mean", "variance", "ci_low", "ci_high"))
        )


def msprt_p_value(difference: Any, variance: Any, tau: float) -> Any:
    """The always-valid p-value of "difference is 0" given the estimated difference and
    its variance (``var_a / n_a + var_b / n_b``): ``min(1, 1 / Lambda)`` with the normal
    mixture likelihood ratio ``Lambda = sqrt(V / (V + tau^2)) exp(tau^2 d^2 / (2 V (V + tau^2)))``.
    Works on numpy arrays (one p per element). Report the running minimum over the looks
    to keep the guarantee across them."""
    d = np.asarray(difference, dtype=float)
    v = np.asarray(variance, dtype=float)
    t2 = float(tau) ** 2
    if not t2 > 0:
        raise InvalidParameter(f"the mixture's tau must be positive, got {tau}")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = 0.5 * np.log(v / (v + t2)) + t2 * d * d / (2 * v * (v + t2))
        p = np.where(v > 0, np.exp(np.minimum(0.0, -log_ratio)), np.where(d == 0, 1.0, 0.0))
    return float(p) if p.ndim == 0 else p


def msprt_interval(difference: float, variance: float, tau: float, alpha: float) -> tuple[float, float]:
    """The always-valid (1 - alpha) interval for the difference: every theta the mSPRT
    would not reject at alpha."""
    t2 = float(tau) ** 2
    if variance <= 0:
        return (difference, difference)
    bound = math.log(1 / alpha) + 0.5 * math.log((variance + t2) / variance)
    half = math.sqrt(2 * variance * (variance + t2) / t2 * bound)
    return (difference - half, difference + half)


def samples_needed(
    variance_a: float, variance_b: float, effect: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Per-variant n for a two-sided fixed-horizon z-test to detect ``effect`` with
    ``power``: ``(z_{1-alpha/2} + z_power)^2 (var_a + var_b) / effect^2``."""
    if not effect > 0:
        raise InvalidParameter(f"the minimum effect must be positive, got {effect}")
    if not 0 < power < 1:
        raise InvalidParameter(f"power must lie in (0, 1), got {power}")
    z = normal_ppf(1 - alpha / 2) + normal_ppf(power)
    return int(math.ceil(z * z * (variance_a + variance_b) / (effect * effect)))


@dataclass(frozen=True)
class ABReport:
    """Everything a report shows; ``difference`` is B's mean minus A's."""

    metric: str
    kind: str
    a: VariantSummary
    b: VariantSummary
    difference: float
    difference_low: float
    difference_high: float
    p_value: float
    alpha: float
    tau: float
    min_effect: float
    power: float
    needed_per_variant: int
    more_per_variant: int
    winner: str | None
    verdict: str

    def to_json(self) -> dict[str, Any]:
        data = {k: _plain(v) for k, v in asdict(self).items()}
        for side in ("a", "b"):
            data[side] = {k: _plain(v) for k, v in data[side].items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ABReport:
        fields = dict(data)
        fields["a"] = VariantSummary.from_json(data["a"])
        fields["b"] = VariantSummary.from_json(data["b"])
        for key in ("difference", "difference_low", "difference_high", "p_value", "alpha", "tau", "min_effect",
                    "power"):
            fields[key] = _float(fields[key])
        return cls(**fields)


def ab_report(
    a: Any,
    b: Any,
    *,
    metric: str = "accuracy",
    kind: Kind | None = None,
    names: tuple[str, str] = ("A", "B"),
    higher_is_better: bool = True,
    alpha: float = 0.05,
    min_effect: float | None = None,
    tau: float | None = None,
    power: float = 0.8,
    min_samples: int = 100,
    previous_p_value: float | None = None,
) -> ABReport:
    """Compare variant B with variant A on one metric from each variant's values (0/1 for
    accuracy or conversion: a proportion; any number for latency: a mean).

    ``min_effect`` is the smallest difference worth finding (default: 1 point for a
    proportion, a tenth of a standard deviation for a mean); ``tau`` defaults to it. Pass
    the p-value of the previous look as ``previous_p_value`` to report the running minimum.
    """
    xa = as_array(a, f"the values of variant {names[0]}", dtype=float)
    xb = as_array(b, f"the values of variant {names[1]}", dtype=float)
    if kind is None:
        both = np.concatenate([xa, xb])
        kind = "proportion" if both.size and np.isin(both[np.isfinite(both)], (0.0, 1.0)).all() else "mean"
    if kind not in ("proportion", "mean"):
        raise InvalidParameter(f"kind must be proportion or mean, got {kind!r}")
    if not 0 < alpha < 1:
        raise InvalidParameter(f"alpha must lie in (0, 1), got {alpha}")
    sa, sb = VariantSummary.of(names[0], xa, kind), VariantSummary.of(names[1], xb, kind)
    if min_effect is None:
        spread = math.sqrt((sa.variance + sb.variance) / 2) if sa.n > 1 and sb.n > 1 else math.nan
        min_effect = 0.01 if kind == "proportion" else (0.1 * spread if spread > 0 else math.nan)
    tau_ = float(tau if tau is not None else min_effect)
    enough = min(sa.n, sb.n) >= max(2, min_samples)
    difference = sb.mean - sa.mean if sa.n and sb.n else math.nan
    common: dict[str, Any] = {"metric": metric, "kind": kind, "a": sa, "b": sb, "difference": difference,
              "alpha": alpha, "tau": tau_, "min_effect": float(min_effect), "power": power}
    if not enough or not (tau_ > 0) or not math.isfinite(min_effect):
        need = max(2, min_samples)
        return ABReport(
            **common, difference_low=math.nan, difference_high=math.nan, p_value=1.0,
            needed_per_variant=need, more_per_variant=max(0, need - min(sa.n, sb.n)), winner=None,
            verdict=f"not enough data yet: {sa.n} and {sb.n} samples, at least {need} per variant needed",
        )
    variance = sa.variance / sa.n + sb.variance / sb.n
    p = float(msprt_p_value(difference, variance, tau_))
    if previous_p_value is not None:
        p = min(p, float(previous_p_value))
    low, high = msprt_interval(difference, variance, tau_, alpha)
    needed = max(min_samples, samples_needed(sa.variance, sb.variance, float(min_effect), alpha=alpha, power=power))
    more = max(0, needed - min(sa.n, sb.n))
    winner = None
    if p < alpha and difference != 0:
        b_better = (difference > 0) == higher_is_better
        winner, loser = (names[1], names[0]) if b_better else (names[0], names[1])
        effect = difference if b_better else -difference
        verdict = f"{winner} beats {loser} on {metric}: {_effect(effect, kind)}, {_p(p)} (always valid)"
    elif more > 0:
        verdict = f"no difference yet: need ~{more} more per variant to see {_effect(min_effect, kind, signed=False)}"
    else:
        verdict = (
            f"no difference found: {min(sa.n, sb.n)} per variant, enough to see"
            f" {_effect(min_effect, kind, signed=False)} with {100 * power:.0f} % power, {_p(p)} (always valid)"
        )
    return ABReport(
        **common, difference_low=low, difference_high=high, p_value=p, needed_per_variant=needed,
        more_per_variant=more, winner=winner, verdict=verdict,
    )


def _effect(value: float, kind: str, *, signed: bool = True) -> str:
    if kind == "proportion":
        return f"{100 * value:+.1f} points" if signed else f"{100 * value:.1f} points"
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def _p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.2g}"


def _plain(value: Any) -> Any:
    """JSON has no NaN: a figure that does not exist yet is null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)

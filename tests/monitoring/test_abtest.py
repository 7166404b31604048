"""The A/B verdict: the mSPRT p-value survives peeking (a classical test does not), the
intervals and sample sizes agree with their textbook formulas, the verdict reads right."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from stead.errors import InvalidParameter
from stead.monitoring.abtest import (
    ABReport,
    VariantSummary,
    ab_report,
    msprt_p_value,
    samples_needed,
)

LOOKS = np.arange(200, 5001, 100)  # peek after every 100 samples per variant, 49 looks


def _peeking(kind: str, seeds: int = 1000, alpha: float = 0.05) -> tuple[float, float]:
    """Share of null experiments (A and B the same) that some look calls significant:
    with the running-min mSPRT p-value, and with a classical two-sample test."""
    msprt_hits = classic_hits = 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        if kind == "proportion":
            a, b = (rng.uniform(size=(2, LOOKS[-1])) < 0.8).astype(float)
            tau = 0.02
        else:
            a, b = rng.normal(100.0, 15.0, size=(2, LOOKS[-1]))
            tau = 1.5
        n = LOOKS.astype(float)
        sum_a, sum_b = np.cumsum(a)[LOOKS - 1], np.cumsum(b)[LOOKS - 1]
        sq_a, sq_b = np.cumsum(a * a)[LOOKS - 1], np.cumsum(b * b)[LOOKS - 1]
        mean_a, mean_b = sum_a / n, sum_b / n
        if kind == "proportion":
            var_a, var_b = mean_a * (1 - mean_a), mean_b * (1 - mean_b)
        else:
            var_a, var_b = (sq_a - n * mean_a**2) / (n - 1), (sq_b - n * mean_b**2) / (n - 1)
        v = var_a / n + var_b / n
        p = np.minimum.accumulate(msprt_p_value(mean_b - mean_a, v, tau))
        msprt_hits += bool((p < alpha).any())
        classic = 2 * stats.t.sf(np.abs(mean_b - mean_a) / np.sqrt(v), 2 * n - 2)
        classic_hits += bool((classic < alpha).any())
    return msprt_hits / seeds, classic_hits / seeds


@pytest.mark.parametrize("kind", ["proportion", "mean"])
def test_peeking_at_msprt_keeps_alpha_and_at_a_t_test_does_not(kind: str) -> None:
    msprt, classic = _peeking(kind)
    # 1,000 seeds: the binomial standard error at 5 % is 0.7 points
    assert msprt <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / 1000)
    assert classic > 0.15  # the point of the test: 49 looks at a t-test reject ~4x too often


def test_msprt_p_value_matches_the_mixture_likelihood_ratio() -> None:
    d, v, tau = 0.03, 0.0001, 0.02
    # integrate the likelihood ratio over theta ~ N(0, tau^2) numerically
    theta = np.linspace(-0.2, 0.2, 400_001)
    ratio = stats.norm.pdf(d, theta, math.sqrt(v)) / stats.norm.pdf(d, 0, math.sqrt(v))
    mixed = np.trapezoid(ratio * stats.norm.pdf(theta, 0, tau), theta)
    assert msprt_p_value(d, v, tau) == pytest.approx(min(1.0, 1 / mixed), rel=1e-6)


def test_variant_intervals_are_wilson_and_normal() -> None:
    rng = np.random.default_rng(1)
    hits = (rng.uniform(size=400) < 0.7).astype(float)
    s = VariantSummary.of("A", hits, "proportion")
    k, n, z = hits.sum(), hits.size, stats.norm.ppf(0.975)
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(n) / (n + z * z) * math.sqrt(k / n * (1 - k / n) + z * z / (4 * n))
    assert (s.ci_low, s.ci_high) == pytest.approx((centre - half, centre + half), rel=1e-9)
    lat = rng.normal(50, 5, 300)
    m = VariantSummary.of("B", lat, "mean")
    half_m = z * lat.std(ddof=1) / math.sqrt(lat.size)
    assert (m.ci_low, m.ci_high) == pytest.approx((lat.mean() - half_m, lat.mean() + half_m))


def test_samples_needed_is_the_fixed_horizon_formula() -> None:
    # 80 % accuracy, find 2 points: (1.96 + 0.8416)^2 * (0.16 + 0.16) / 0.02^2, rounded up
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert samples_needed(0.16, 0.16, 0.02) == math.ceil(z * z * 0.32 / 0.0004)
    with pytest.raises(InvalidParameter, match="minimum effect"):
        samples_needed(0.1, 0.1, 0.0)


def test_verdicts_read_as_one_line() -> None:
    rng = np.random.default_rng(2)
    a = (rng.uniform(size=20_000) < 0.80).astype(float)
    b = (rng.uniform(size=20_000) < 0.83).astype(float)
    report = ab_report(a, b, metric="accuracy", min_effect=0.02)
    assert report.kind == "proportion" and report.winner == "B"
    assert report.verdict.startswith("B beats A on accuracy: +")
    assert report.verdict.endswith("(always valid)")
    assert report.difference_low < report.difference < report.difference_high
    assert report.difference_low > 0

    same = ab_report(a[:1000], (rng.uniform(size=1000) < 0.80).astype(float), min_effect=0.02)
    assert same.winner is None and same.verdict.startswith("no difference yet: need ~")
    assert same.more_per_variant == same.needed_per_variant - 1000

    fast = rng.normal(40, 8, 3000)
    slow = rng.normal(45, 8, 3000)
    latency = ab_report(slow, fast, metric="latency", higher_is_better=False, names=("primary", "candidate"))
    assert latency.kind == "mean" and latency.winner == "candidate"
    assert latency.verdict.startswith("candidate beats primary on latency: -")

    few = ab_report(a[:10], b[:10])
    assert few.winner is None and few.p_value == 1.0 and few.verdict.startswith("not enough data yet")


def test_report_is_plain_json_and_keeps_the_running_minimum() -> None:
    rng = np.random.default_rng(3)
    a = (rng.uniform(size=500) < 0.8).astype(float)
    b = (rng.uniform(size=500) < 0.8).astype(float)
    report = ab_report(a, b, previous_p_value=0.2)
    assert report.p_value <= 0.2
    assert ABReport.from_json(json.loads(json.dumps(report.to_json()))) == report
    few = ab_report(a[:3], b[:3])
    data = json.loads(json.dumps(few.to_json()))
    assert data["difference_low"] is None
    with pytest.raises(InvalidParameter, match="0/1"):
        ab_report([0.0, 1.0, 0.5], [1.0, 0.0, 1.0], kind="proportion")


def test_peeking_at_msprt_still_finds_a_real_effect() -> None:
    found = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        a = (rng.uniform(size=LOOKS[-1]) < 0.80).astype(float)
        b = (rng.uniform(size=LOOKS[-1]) < 0.83).astype(float)
        n = LOOKS.astype(float)
        mean_a, mean_b = np.cumsum(a)[LOOKS - 1] / n, np.cumsum(b)[LOOKS - 1] / n
        v = (mean_a * (1 - mean_a) + mean_b * (1 - mean_b)) / n
        found += bool((msprt_p_value(mean_b - mean_a, v, 0.02) < 0.05).any())
    assert found / 200 > 0.8  # +3 points on 80 % within 5,000 per variant, checked every 100

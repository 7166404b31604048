"""The canary judge: its tests agree with scipy and a direct z-test, and its verdict rules
(no data counts against, critical fails at once, three-way score) hold."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from stead.errors import InvalidParameter
from stead.monitoring.judge import (
    Analysis,
    CheckResult,
    accuracy_check,
    canary_verdict,
    error_rate_check,
    latency_check,
    prediction_drift_check,
)
from stead.monitoring.stats import (
    kth_pairwise_difference,
    mann_whitney,
    two_proportions,
)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("seed", [0, 1])
def test_mann_whitney_matches_scipy(alternative: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.round(rng.lognormal(0.05, 0.5, 300), 2)  # rounded: ties, which need the correction
    y = np.round(rng.lognormal(0.0, 0.5, 250), 2)
    got = mann_whitney(x, y, alternative=alternative)  # type: ignore[arg-type]
    want = stats.mannwhitneyu(x, y, alternative=alternative, method="asymptotic", use_continuity=True)
    assert got.u == pytest.approx(want.statistic)
    assert got.p_value == pytest.approx(want.pvalue, rel=1e-9)


def test_hodges_lehmann_shift_and_interval_against_all_pairs() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(1.3, 1, 120)
    y = rng.normal(1.0, 1, 90)
    diffs = np.sort(np.subtract.outer(x, y), axis=None)
    got = mann_whitney(x, y, confidence=0.9)
    assert got.shift == pytest.approx(np.median(diffs), abs=1e-12)
    total, n = x.size * y.size, x.size + y.size
    c = math.floor(total / 2 - stats.norm.ppf(0.95) * math.sqrt(total * (n + 1) / 12))
    assert got.shift_low == pytest.approx(diffs[c - 1], abs=1e-12)
    assert got.shift_high == pytest.approx(diffs[total - c], abs=1e-12)


def test_kth_pairwise_difference_on_large_samples() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.exponential(1, 1500), rng.exponential(1.1, 1000)
    diffs = np.sort(np.subtract.outer(x, y), axis=None)
    for k in (1, 777, diffs.size // 2, diffs.size - 3, diffs.size):
        assert kth_pairwise_difference(x, y, k) == pytest.approx(diffs[k - 1], abs=1e-12)


@pytest.mark.parametrize("counts", [(30, 400, 18, 500), (5, 1000, 5, 1000), (120, 900, 80, 1100)])
def test_two_proportions_is_a_z_test(counts: tuple[int, int, int, int]) -> None:
    k1, n1, k2, n2 = counts
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert two_proportions(k1, n1, k2, n2, alternative="greater").p_value == pytest.approx(stats.norm.sf(z))
    assert two_proportions(k1, n1, k2, n2, alternative="less").p_value == pytest.approx(stats.norm.cdf(z))
    two = two_proportions(k1, n1, k2, n2)
    assert two.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))
    # the same test as a chi-squared test of the 2x2 table without Yates' correction
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    assert two.p_value == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue)


def test_latency_fails_only_beyond_the_tolerance_band() -> None:
    rng = np.random.default_rng(4)
    primary = rng.lognormal(np.log(0.050), 0.3, 2000)
    slower = rng.lognormal(np.log(0.065), 0.3, 2000)  # 30 % slower
    slightly = rng.lognormal(np.log(0.0515), 0.3, 2000)  # 3 %: significant, within 10 %
    bad = latency_check(slower, primary)
    assert bad.status == "fail" and bad.numbers["shift"] > bad.numbers["allowed_shift"]
    ok = latency_check(slightly, primary)
    assert ok.status == "pass" and ok.numbers["p_value"] < 0.05
    assert latency_check(slightly, primary, tolerance=0.0).status == "fail"
    faster = latency_check(primary * 0.5, primary)
    assert faster.status == "pass"
    assert latency_check(primary * 0.5, primary, direction="either").status == "fail"
    want = stats.mannwhitneyu(slower, primary, alternative="greater", method="asymptotic").pvalue
    assert bad.numbers["p_value"] == pytest.approx(want, rel=1e-9)


def test_no_data_counts_against_the_candidate() -> None:
    few = latency_check([0.1] * 5, [0.1] * 500)
    assert few.status == "inconclusive" and few.numbers["no_data"]
    assert latency_check([0.1] * 5, [0.1] * 500, no_data="fail").status == "fail"
    assert error_rate_check(0, 10, 3, 1000).status == "inconclusive"
    verdict = canary_verdict([few, error_rate_check(10, 1000, 10, 1000)])
    assert verdict.status == "fail" and verdict.score == 50.0


def test_error_rate_and_accuracy_checks() -> None:
    broken = error_rate_check(60, 1000, 10, 1000)
    assert broken.status == "fail" and broken.critical
    assert error_rate_check(12, 1000, 10, 1000).status == "pass"
    assert error_rate_check(60, 1000, 10, 1000, tolerance=0.1).status == "pass"
    worse = accuracy_check(780, 1000, 850, 1000)
    assert worse.status == "fail" and worse.numbers["difference"] == pytest.approx(-0.07)
    assert accuracy_check(900, 1000, 850, 1000).status == "pass"  # better is never a failure


def test_prediction_drift_takes_any_drift_function() -> None:
    def ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, bool]:
        result = stats.ks_2samp(reference, current)
        return float(result.statistic), bool(result.pvalue < 0.05)

    rng = np.random.default_rng(5)
    primary = rng.uniform(size=1000)
    assert prediction_drift_check(rng.uniform(size=1000), primary, ks).status == "pass"
    drifted = prediction_drift_check(rng.uniform(size=1000) ** 2, primary, ks)
    assert drifted.status == "fail" and drifted.numbers["drifted"] is True

    class Result:
        score, drifted, test = 0.3, True, "wasserstein"

    assert prediction_drift_check(primary, primary, lambda r, c: Result()).numbers["test"] == "wasserstein"
    assert prediction_drift_check(primary[:3], primary, ks).status == "inconclusive"
    nothing = {"score": None, "drifted": None}
    assert prediction_drift_check(primary, primary, lambda r, c: nothing, no_data="fail").status == "fail"


def _check(name: str, status: str, critical: bool = False) -> CheckResult:
    return CheckResult(name, "latency", status, critical, f"{name} {status}")  # type: ignore[arg-type]


def test_verdict_is_three_way_and_critical_fails_at_once() -> None:
    four_pass = [_check(f"c{i}", "pass") for i in range(4)]
    assert canary_verdict(four_pass).status == "pass" and canary_verdict(four_pass).score == 100.0
    one_open = [*four_pass[:3], _check("c3", "inconclusive")]
    assert canary_verdict(one_open).status == "inconclusive" and canary_verdict(one_open).score == 75.0
    one_failed = [*four_pass[:3], _check("c3", "fail")]
    assert canary_verdict(one_failed, pass_score=70, marginal_score=50).status == "pass"
    assert canary_verdict(one_failed, pass_score=90, marginal_score=80).status == "fail"
    critical = canary_verdict([*four_pass, _check("errors", "fail", critical=True)])
    assert critical.status == "fail" and critical.score == 0.0 and "errors" in critical.reason
    critical_open = [*[_check(f"c{i}", "pass") for i in range(30)], _check("errors", "inconclusive", True)]
    assert canary_verdict(critical_open).status == "inconclusive"
    with pytest.raises(InvalidParameter, match="at least one check"):
        canary_verdict([])


def test_analysis_is_plain_json() -> None:
    rng = np.random.default_rng(6)
    primary = rng.lognormal(0, 0.3, 200)
    analysis = canary_verdict(
        [latency_check(primary * 1.5, primary), error_rate_check(1, 200, 2, 200), accuracy_check(10, 20, 15, 30)]
    )
    text = json.dumps(analysis.to_json())
    assert Analysis.from_json(json.loads(text)) == analysis
    assert analysis.status == "fail"


def _canary(rng: np.random.Generator, slowdown: float, error_rate: float, accuracy: float) -> Analysis:
    n = 1500
    primary_latency = rng.lognormal(np.log(0.040), 0.4, n)
    candidate_latency = rng.lognormal(np.log(0.040 * slowdown), 0.4, n)
    return canary_verdict([
        latency_check(candidate_latency, primary_latency),
        error_rate_check(int(rng.binomial(n, error_rate)), n, int(rng.binomial(n, 0.01)), n),
        accuracy_check(int(rng.binomial(n, accuracy)), n, int(rng.binomial(n, 0.85)), n, tolerance=0.01),
    ])


def test_a_good_canary_passes_and_a_broken_one_fails_over_many_seeds() -> None:
    good = [_canary(np.random.default_rng(seed), 1.0, 0.01, 0.85).status for seed in range(200)]
    # each check fails a good canary with probability <= alpha (5 %, one-sided; less with a
    # tolerance band), and one failed check of three fails the analysis: about 10 % here
    assert good.count("fail") / 200 <= 0.15
    assert good.count("pass") + good.count("fail") == 200
    for slowdown, errors, accuracy in ((1.3, 0.01, 0.85), (1.0, 0.05, 0.85), (1.0, 0.01, 0.78)):
        broken = [_canary(np.random.default_rng(seed), slowdown, errors, accuracy).status for seed in range(20)]
        assert broken.count("fail") == 20, (slowdown, errors, accuracy)

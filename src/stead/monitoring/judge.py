"""The canary judge: is the candidate worse than the primary it may replace?

Kayenta's way: each check compares a candidate sample with a primary sample and says
pass, fail or inconclusive; a check without enough samples has "no data", which counts
against the candidate (inconclusive, or fail when so configured); a failed critical check
fails the analysis at once; otherwise the score is the share of passed checks, and Argo
Rollouts' three-way verdict follows from it (pass at or above ``pass_score``, fail below
``marginal_score``, inconclusive between: a person decides). Besides latency (Mann-Whitney U
with a Hodges-Lehmann tolerance band) and error rate (two-proportion test), two checks only
an ML platform can make: the candidate's prediction distribution against the primary's
(any drift function), and live accuracy once labels exist. Every number behind a verdict
is kept in its record, which is plain JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from stead.errors import InvalidParameter
from stead.monitoring.stats import as_array, mann_whitney, two_proportions

__all__ = [
    "Status",
    "CheckResult",
    "Analysis",
    "DriftFunction",
    "latency_check",
    "error_rate_check",
    "accuracy_check",
    "prediction_drift_check",
    "canary_verdict",
]

Status = Literal["pass", "fail", "inconclusive"]
NoData = Literal["inconclusive", "fail"]
Direction = Literal["increase", "decrease", "either"]
# (primary values, candidate values) -> (drift score, drifted?) or an object with
# ``score`` and ``drifted`` attributes (stead.monitoring's drift results have them)
DriftFunction = Callable[[np.ndarray, np.ndarray], Any]


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome with the numbers it was decided on."""

    name: str
    kind: str
    status: Status
    critical: bool
    reason: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "critical": self.critical,
            "reason": self.reason,
            "numbers": dict(self.numbers),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            str(data["name"]), str(data["kind"]), data["status"], bool(data["critical"]),
            str(data["reason"]), dict(data.get("numbers") or {}),
        )


@dataclass(frozen=True)
class Analysis:
    """The verdict over all checks: ``status``, ``score`` (0-100) and why."""

    status: Status
    score: float
    reason: str
    checks: tuple[CheckResult, ...]
    pass_score: float
    marginal_score: float

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "score": self.score,
            "reason": self.reason,
            "pass_score": self.pass_score,
            "marginal_score": self.marginal_score,
            "checks": [c.to_json() for c in self.checks],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Analysis:
        return cls(
            data["status"], float(data["score"]), str(data["reason"]),
            tuple(CheckResult.from_json(c) for c in data["checks"]),
            float(data["pass_score"]), float(data["marginal_score"]),
        )


def _no_data(name: str, kind: str, critical: bool, no_data: NoData, n_c: int, n_p: int, need: int) -> CheckResult:
    if no_data not in ("inconclusive", "fail"):
        raise InvalidParameter(f"no_data must be inconclusive or fail, got {no_data!r}")
    return CheckResult(
        name, kind, no_data, critical,
        f"no data: {n_c} candidate and {n_p} primary samples, {need} each needed",
        {"n_candidate": n_c, "n_primary": n_p, "min_samples": need, "no_data": True},
    )


def latency_check(
    candidate: Any,
    primary: Any,
    *,
    name: str = "latency",
    tolerance: float = 0.1,
    absolute_tolerance: float = 0.0,
    alpha: float = 0.05,
    direction: Direction = "increase",
    confidence: float = 0.95,
    min_samples: int = 30,
    critical: bool = False,
    no_data: NoData = "inconclusive",
) -> CheckResult:
    """Fail when the candidate is significantly worse (Mann-Whitney U, one-sided in the
    bad ``direction``, p < ``alpha``) and its Hodges-Lehmann shift leaves the tolerance
    band: ``max(absolute_tolerance, tolerance * |median(primary)|)``, e.g. 10 % slower.
    A significant but small shift passes; that is the point of the band."""
    c = as_array(candidate, "candidate", dtype=float)
    p = as_array(primary, "primary", dtype=float)
    c, p = c[np.isfinite(c)], p[np.isfinite(p)]
    if min(c.size, p.size) < max(1, min_samples):
        return _no_data(name, "latency", critical, no_data, int(c.size), int(p.size), min_samples)
    alternative = {"increase": "greater", "decrease": "less", "either": "two-sided"}.get(direction)
    if alternative is None:
        raise InvalidParameter(f"direction must be increase, decrease or either, got {direction!r}")
    mw = mann_whitney(c, p, alternative=alternative, confidence=confidence)  # type: ignore[arg-type]
    allowed = max(absolute_tolerance, tolerance * abs(float(np.median(p))))
    beyond = {
        "increase": mw.shift > allowed,
        "decrease": mw.shift < -allowed,
        "either": abs(mw.shift) > allowed,
    }[direction]
    significant = mw.p_value < alpha
    status: Status = "fail" if significant and beyond else "pass"
    numbers = {
        "n_candidate": mw.n_x, "n_primary": mw.n_y,
        "median_candidate": float(np.median(c)), "median_primary": float(np.median(p)),
        "u": mw.u, "z": mw.z, "p_value": mw.p_value, "alpha": alpha, "alternative": alternative,
        "shift": mw.shift, "shift_low": mw.shift_low, "shift_high": mw.shift_high,
        "confidence": confidence, "allowed_shift": allowed,
    }
    verb = "worse" if status == "fail" else "within tolerance"
    reason = (
        f"{name} {verb}: shift {mw.shift:+.4g} (CI {mw.shift_low:.4g}..{mw.shift_high:.4g}),"
        f" allowed {allowed:.4g}, p={mw.p_value:.3g}"
    )
    return CheckResult(name, "latency", status, critical, reason, numbers)


def _rate_check(
    kind: str, name: str, worse: str, k_c: int, n_c: int, k_p: int, n_p: int, *,
    tolerance: float, alpha: float, min_samples: int, critical: bool, no_data: NoData,
) -> CheckResult:
    if min(n_c, n_p) < max(1, min_samples):
        return _no_data(name, kind, critical, no_data, n_c, n_p, min_samples)
    alternative = "greater" if worse == "higher" else "less"
    test = two_proportions(k_c, n_c, k_p, n_p, alternative=alternative)  # type: ignore[arg-type]
    beyond = test.difference > tolerance if worse == "higher" else test.difference < -tolerance
    status: Status = "fail" if test.p_value < alpha and beyond else "pass"
    numbers = {
        "n_candidate": n_c, "n_primary": n_p, "count_candidate": k_c, "count_primary": k_p,
        "rate_candidate": test.rate_1, "rate_primary": test.rate_2, "difference": test.difference,
        "z": test.z, "p_value": test.p_value, "alpha": alpha, "alternative": alternative,
        "tolerance": tolerance,
    }
    verb = "worse" if status == "fail" else "within tolerance"
    reason = (
        f"{name} {verb}: {test.rate_1:.4g} against {test.rate_2:.4g}"
        f" ({test.difference:+.4g}, allowed {tolerance:.4g}), p={test.p_value:.3g}"
    )
    return CheckResult(name, kind, status, critical, reason, numbers)


def error_rate_check(
    candidate_errors: int,
    candidate_requests: int,
    primary_errors: int,
    primary_requests: int,
    *,
    name: str = "error_rate",
    tolerance: float = 0.0,
    alpha: float = 0.05,
    min_samples: int = 100,
    critical: bool = True,
    no_data: NoData = "inconclusive",
) -> CheckResult:
    """Fail when the candidate's error rate is significantly higher (two-proportion z-test,
    one-sided) by more than ``tolerance`` (absolute: 0.01 is one point). Critical by default:
    a candidate that breaks requests fails the analysis at once."""
    return _rate_check(
        "error_rate", name, "higher", candidate_errors, candidate_requests, primary_errors,
        primary_requests, tolerance=tolerance, alpha=alpha, min_samples=min_samples,
        critical=critical, no_data=no_data,
    )


def accuracy_check(
    candidate_correct: int,
    candidate_labelled: int,
    primary_correct: int,
    primary_labelled: int,
    *,
    name: str = "accuracy",
    tolerance: float = 0.0,
    alpha: float = 0.05,
    min_samples: int = 100,
    critical: bool = False,
    no_data: NoData = "inconclusive",
) -> CheckResult:
    """Live accuracy once labels exist: fail when the candidate is correct significantly less
    often (two-proportion z-test on correct/incorrect) by more than ``tolerance``."""
    return _rate_check(
        "accuracy", name, "lower", candidate_correct, candidate_labelled, primary_correct,
        primary_labelled, tolerance=tolerance, alpha=alpha, min_samples=min_samples,
        critical=critical, no_data=no_data,
    )


def prediction_drift_check(
    candidate: Any,
    primary: Any,
    drift: DriftFunction,
    *,
    name: str = "prediction_drift",
    min_samples: int = 30,
    critical: bool = False,
    no_data: NoData = "inconclusive",
) -> CheckResult:
    """Fail when the candidate's predictions are distributed unlike the primary's on the
    same traffic: ``drift(primary, candidate)`` decides, returning ``(score, drifted)``, or a
    result or mapping with ``score`` and ``drifted`` (and optionally ``test``), as
    ``stead.monitoring``'s ``FeatureDrift`` has; ``drifted is None`` means no data."""
    c = as_array(candidate, "candidate")
    p = as_array(primary, "primary")
    if min(c.size, p.size) < max(1, min_samples):
        return _no_data(name, "prediction_drift", critical, no_data, int(c.size), int(p.size), min_samples)
    outcome = drift(p, c)
    if isinstance(outcome, tuple):
        score, drifted = outcome
        test = None
    elif isinstance(outcome, Mapping):
        score, drifted, test = outcome["score"], outcome["drifted"], outcome.get("test")
    else:
        score, drifted = outcome.score, outcome.drifted
        test = getattr(outcome, "test", None)
    if drifted is None:  # the drift function itself found nothing to compare
        return _no_data(name, "prediction_drift", critical, no_data, int(c.size), int(p.size), min_samples)
    status: Status = "fail" if bool(drifted) else "pass"
    numbers: dict[str, Any] = {
        "n_candidate": int(c.size), "n_primary": int(p.size),
        "score": None if score is None else float(score), "drifted": bool(drifted),
    }
    if test is not None:
        numbers["test"] = str(test)
    shown = "none" if score is None else f"{float(score):.4g}"
    reason = f"{name} {'drifted' if drifted else 'stable'}: score {shown}"
    return CheckResult(name, "prediction_drift", status, critical, reason, numbers)


def canary_verdict(
    checks: Sequence[CheckResult], *, pass_score: float = 95.0, marginal_score: float = 75.0
) -> Analysis:
    """The overall verdict. A failed critical check: fail, score 0. Otherwise the score is
    100 x passed / all checks (an inconclusive check counts against); below
    ``marginal_score`` fail, at or above ``pass_score`` pass (unless a critical check had
    no data), in between inconclusive."""
    if not checks:
        raise InvalidParameter("a canary analysis needs at least one check")
    if not 0 <= marginal_score <= pass_score <= 100:
        raise InvalidParameter(
            f"scores must satisfy 0 <= marginal_score <= pass_score <= 100, got {marginal_score} and {pass_score}"
        )
    items = tuple(checks)
    common: dict[str, Any] = {"checks": items, "pass_score": pass_score, "marginal_score": marginal_score}
    critical_failed = [c for c in items if c.critical and c.status == "fail"]
    if critical_failed:
        names = ", ".join(c.name for c in critical_failed)
        return Analysis("fail", 0.0, f"critical check failed: {names}; {critical_failed[0].reason}", **common)
    passed = sum(c.status == "pass" for c in items)
    score = 100.0 * passed / len(items)
    not_passed = [c for c in items if c.status != "pass"]
    detail = "; ".join(f"{c.name}: {c.reason}" for c in not_passed) or "every check passed"
    if score < marginal_score:
        return Analysis("fail", score, f"score {score:.0f} below {marginal_score:.0f}: {detail}", **common)
    critical_open = [c.name for c in items if c.critical and c.status == "inconclusive"]
    if score >= pass_score and not critical_open:
        return Analysis("pass", score, f"score {score:.0f}: {detail}", **common)
    why = f"critical check without a verdict: {', '.join(critical_open)}; " if critical_open else ""
    return Analysis("inconclusive", score, f"score {score:.0f}: {why}{detail}", **common)

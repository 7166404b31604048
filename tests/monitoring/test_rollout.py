"""The rollout controller's pure parts: ``decide`` over sequences of verdicts (weights step
up to the maximum, a pass there promotes, the N-th failed analysis rolls back, an
inconclusive one pauses) and ``analyse`` over synthetic samples of two variants."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from stead.errors import InvalidParameter
from stead.monitoring.rollout import OPTIONS, Rollout, analyse, decide
from stead.monitoring.variants import VariantSamples


def _rollout(step: int = 10, max_weight: int = 50, checks: int = 3) -> Rollout:
    return Rollout(1, "churn", "canary", "churn@candidate", "3", step, max_weight, 60.0, checks, dict(OPTIONS),
                   "progressing", step, 0, "", "", 0, 0)


def _run(r: Rollout, verdicts: str) -> list[tuple[str, int, int, str]]:
    """Apply one verdict per letter (p, f, i) as the controller would; (action, weight, failed, state) each."""
    out = []
    for letter in verdicts:
        s = decide(r, {"p": "pass", "f": "fail", "i": "inconclusive"}[letter])
        out.append((s.action, s.weight, s.failed, s.state))
        r = replace(r, weight=s.weight, failed=s.failed, state=s.state)
        if s.state != "progressing":
            break
    return out


def test_passes_step_the_weight_up_to_the_maximum_then_promote() -> None:
    assert _run(_rollout(step=20, max_weight=50), "pppp") == [
        ("step", 40, 0, "progressing"), ("step", 50, 0, "progressing"), ("promote", 100, 0, "promoted")]


def test_the_nth_failed_analysis_rolls_back_and_passes_do_not_reset_the_count() -> None:
    assert _run(_rollout(checks=3), "fpfpf") == [
        ("hold", 10, 1, "progressing"), ("step", 20, 1, "progressing"), ("hold", 20, 2, "progressing"),
        ("step", 30, 2, "progressing"), ("rollback", 0, 3, "rolled_back")]
    assert _run(_rollout(checks=1), "f") == [("rollback", 0, 1, "rolled_back")]


def test_an_inconclusive_analysis_pauses_for_a_person() -> None:
    assert _run(_rollout(), "pi") == [("step", 20, 0, "progressing"), ("pause", 20, 0, "paused")]
    with pytest.raises(InvalidParameter, match="verdict must be pass, fail or inconclusive"):
        decide(_rollout(), "maybe")


def _samples(name: str, n: int, *, errors: int = 0, latency: float = 2.0, flip: float = 0.0, seed: int = 0,
             labels: bool = False) -> VariantSamples:
    rng = np.random.default_rng(seed)
    preds = (rng.random(n - errors) < 0.3 + flip).astype(np.int64)
    flags = np.r_[np.ones(errors), np.zeros(n - errors)]
    correct = (rng.random(n - errors) < (0.9 - flip)).astype(float) if labels else np.zeros(0)
    return VariantSamples(name, n, errors, rng.normal(latency, 0.2, n - errors), flags, preds, correct)


def test_a_candidate_like_the_primary_passes_every_check() -> None:
    result = analyse({"primary": _samples("primary", 400, seed=1), "canary": _samples("canary", 400, seed=1)},
                     "primary", "canary")
    assert result.status == "pass" and result.score == 100
    assert [c.name for c in result.checks] == ["latency", "error_rate", "prediction_drift"]


def test_errors_fail_the_analysis_at_once_and_slowness_and_drift_lower_the_score() -> None:
    primary = _samples("primary", 400, seed=1)
    broken = analyse({"primary": primary, "canary": _samples("canary", 400, errors=80, seed=2)}, "primary", "canary")
    assert broken.status == "fail" and broken.score == 0 and "critical check failed: error_rate" in broken.reason
    slow = analyse({"primary": primary, "canary": _samples("canary", 400, latency=40.0, seed=2)}, "primary", "canary")
    assert slow.status == "fail" and {c.name: c.status for c in slow.checks}["latency"] == "fail"
    drifted = analyse({"primary": primary, "canary": _samples("canary", 400, flip=0.4, seed=2)}, "primary", "canary")
    assert {c.name: c.status for c in drifted.checks}["prediction_drift"] == "fail"


def test_no_data_counts_against_the_candidate() -> None:
    result = analyse({"primary": _samples("primary", 400)}, "primary", "canary")
    assert result.status == "fail" and result.score == 0
    assert all(c.numbers.get("no_data") for c in result.checks)
    few = analyse({"primary": _samples("primary", 400), "canary": _samples("canary", 10)}, "primary", "canary")
    assert few.status == "fail"


def test_labels_add_the_accuracy_check_and_one_open_check_of_four_is_inconclusive() -> None:
    primary = _samples("primary", 400, seed=1, labels=True)
    same = analyse({"primary": primary, "canary": _samples("canary", 400, seed=1, labels=True)}, "primary", "canary")
    assert [c.name for c in same.checks][-1] == "accuracy" and same.status == "pass"
    few_labels = replace(_samples("canary", 400, seed=1), correct=np.ones(5))
    open_one = analyse({"primary": primary, "canary": few_labels}, "primary", "canary")
    assert open_one.status == "inconclusive" and open_one.score == 75

"""The churn example end to end: tracked training, gated registration as churn@staging."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stead.pipelines import load_output, run_pipeline
from stead.pipelines.loader import load_pipeline

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn" / "pipeline.py"


@pytest.mark.slow
def test_churn_registers_staging_only_when_evaluation_passes(settings):
    pytest.importorskip("sklearn")
    pipeline = load_pipeline(f"{EXAMPLE}:train_pipeline")
    gated = run_pipeline(pipeline, {"min_accuracy": 0.999, "rows": 600, "n_estimators": 10}, settings=settings)
    assert gated.status == "SUCCEEDED", gated.error
    assert gated.step("register").status == "SKIPPED"
    assert gated.step("roll_out").status == "SKIPPED"
    assert gated.step("train").tracking_run_id

    passed = run_pipeline(pipeline, {"min_accuracy": 0.5, "rows": 600, "n_estimators": 10}, settings=settings)
    assert passed.status == "SUCCEEDED", passed.error
    statuses = {s.step_id: s.status for s in passed.steps}
    assert statuses == {"load_customers": "CACHED", "validate": "CACHED", "train": "CACHED",
                        "evaluate": "CACHED", "register": "SUCCEEDED", "roll_out": "SUCCEEDED"}
    assert load_output(passed, "roll_out", settings)["started"] is False  # no deployment: registered only
    result = load_output(passed, "register", settings)
    if result["registered"]:
        from stead.registry.client import RegistryClient
        from stead.tracking.client import TrackingClient

        registry = RegistryClient.from_tracking(TrackingClient(settings))
        staged = registry.get_version_by_alias("churn", "staging")
        assert int(staged.version) == result["version"]
        assert staged.run_id == gated.step("train").tracking_run_id
    else:  # a stead without the registry: the model stays a tagged run artifact
        assert result["model_uri"].startswith("runs:/")

"""Tracking records survive the trip through MLflow's JSON (server writes, client reads)."""

from __future__ import annotations

import math

from stead.tracking.records import Experiment, Metric, Run, RunData, RunInfo, RunInput, RunStatus
from stead.wire.fields import double_json, parse_double
from stead.wire.tracking_json import (
    experiment_from_json,
    experiment_json,
    metric_from_json,
    metric_json,
    run_from_json,
    run_json,
)


def test_non_finite_doubles_are_strings_both_ways():
    assert [double_json(v) for v in (1.5, math.inf, -math.inf)] == [1.5, "Infinity", "-Infinity"]
    assert math.isnan(parse_double(double_json(math.nan), "value"))
    assert metric_from_json(metric_json(Metric("loss", -math.inf, 7, 2))) == Metric("loss", -math.inf, 7, 2)


def test_experiment_and_run_round_trip():
    exp = Experiment("3", "churn", "/a/3", "active", 1, 2, {"team": "ml"})
    assert experiment_from_json(experiment_json(exp)) == exp
    info = RunInfo(run_id="r1", experiment_id="3", run_name="n", user_id="u", status=RunStatus.FINISHED,
                   start_time=5, end_time=9, artifact_uri="/a/3/r1/artifacts", lifecycle_stage="active")
    run = Run(info, RunData({"acc": Metric("acc", 0.9, 6, 0)}, {"lr": "0.1"}, {"t": "v"}),
              (RunInput(name="d", digest="h", source_type="stead", source="data:/d@1", context="training"),))
    back = run_from_json(run_json(run))
    assert back.info == info and back.data == run.data
    assert back.inputs[0].context == "training" and back.inputs[0].source == "data:/d@1"

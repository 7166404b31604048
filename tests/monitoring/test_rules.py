"""``stead monitor rules``: the rule file is checked by the real ``promtool`` (Debian package
``prometheus``) and unit tested with ``promtool test rules``: every alert fires on series that
should raise it and stays quiet on healthy ones."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from stead.errors import InvalidParameter
from stead.monitoring.rules import DISTANCE_TESTS, P_VALUE_TESTS, alert_rules, rule_groups, write_rules

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not found: install the Debian package `prometheus` (apt-get install prometheus)")


def _promtool(*args: str) -> str:
    assert PROMTOOL is not None
    done = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _check(tmp_path: Path, text: str) -> str:
    path = tmp_path / "stead.rules.yml"
    path.write_text(text)
    return _promtool("check", "rules", str(path))


def _test(tmp_path: Path, rules: str, series: dict[str, str], alerts: list[dict[str, Any]],
          interval: str = "1m") -> None:
    """Run ``promtool test rules`` on ``rules`` with ``series`` (selector -> promtool's
    expanding notation) and ``alerts``: each ``{"at": ..., "alert": ..., "expect": [(labels,
    annotations)]}`` (promtool compares annotations whole); an empty ``expect`` asserts that nothing fires."""
    (tmp_path / "stead.rules.yml").write_text(rules)
    cases = []
    for a in alerts:
        expected = []
        for labels, annotations in a["expect"]:
            expected.append({"exp_labels": labels, "exp_annotations": annotations})
        cases.append({"eval_time": a["at"], "alertname": a["alert"], "exp_alerts": expected})
    test = {"rule_files": ["stead.rules.yml"], "evaluation_interval": interval,
            "tests": [{"interval": interval, "input_series": [{"series": s, "values": v} for s, v in series.items()],
                       "alert_rule_test": cases}]}
    path = tmp_path / "stead.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    out = _promtool("test", "rules", str(path))
    assert "SUCCESS" in out, out


@needs_promtool
@pytest.mark.parametrize("options", [
    {},
    {"deployments": ["churn"]},
    {"deployments": ["churn", "fraud.v2"], "drift_share": 0.3, "min_performance": {"accuracy": 0.9, "f1": 0.7,
                                                                                     "rmse": 2.5}},
    {"min_performance": {}, "error_kinds": ["server"], "window": "10m", "serving_for": "0s", "monitor_for": "15m"},
])
def test_promtool_accepts_the_rule_file(tmp_path: Path, options: dict[str, Any]) -> None:
    text = alert_rules(**options)
    out = _check(tmp_path, text)
    n = sum(len(g["rules"]) for g in yaml.safe_load(text)["groups"])
    assert f"SUCCESS: {n} rules found" in out, out


def test_every_rule_has_severity_summary_and_description() -> None:
    groups = rule_groups(drift_share=0.5, min_performance={"accuracy": 0.8, "mae": 3})["groups"]
    assert [g["name"] for g in groups] == ["stead-drift", "stead-performance", "stead-serving"]
    rules = [r for g in groups for r in g["rules"]]
    assert [r["alert"] for r in rules] == [
        "SteadDataDrift", "SteadFeatureDrift", "SteadDriftShare", "SteadModelPerformanceLow",
        "SteadModelPerformanceEstimatedLow", "SteadServingErrorRate", "SteadServingLatencyP99"]
    for r in rules:
        assert set(r) == {"alert", "expr", "for", "labels", "annotations"}
        assert r["labels"]["severity"] in ("warning", "critical")
        assert "$labels.deployment" in r["annotations"]["description"]
        assert "$value" in r["annotations"]["description"]
    # without deployments the rules match every deployment: no deployment matcher at all
    assert all("deployment=" not in r["expr"] and "deployment=~" not in r["expr"] for r in rules)
    assert "SteadDriftShare" not in alert_rules() and "stead-performance" not in alert_rules(min_performance={})


def test_drift_tests_are_the_ones_drift_reports() -> None:
    from stead.monitoring import drift

    assert set(P_VALUE_TESTS) == set(drift._TESTS_WITH_P)
    assert set(P_VALUE_TESTS) | set(DISTANCE_TESTS) == {"ks", "chisquare", "z", "wasserstein", "jensenshannon"}
    expr = rule_groups()["groups"][0]["rules"][1]["expr"]
    assert f"< {drift.P_VALUE:g})" in expr and f">= {drift.DISTANCE:g})" in expr


def test_serving_rules_use_the_series_stead_serve_exports() -> None:
    """The names and labels in the serving rules are those of ``stead serve``'s /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    from stead.serving.metrics import ServingMetrics

    m = ServingMetrics("churn")
    m.request("3", "primary", "v2", 200, 0.01)
    m.request("3", "primary", "v2", 500, 0.3)
    m.request("3", "primary", "v2", 504, 0.3)
    samples = {s.name: s.labels for f in text_string_to_metric_families(m.render().decode()) for s in f.samples}
    assert samples["stead_serving_errors_total"]["deployment"] == "churn"
    assert {"server", "timeout"} <= {s.labels["kind"] for f in text_string_to_metric_families(m.render().decode())
                                     for s in f.samples if s.name == "stead_serving_errors_total"}
    assert "deployment" in samples["stead_serving_requests_total"]
    assert {"deployment", "le"} <= set(samples["stead_serving_request_duration_seconds_bucket"])
    serving = rule_groups()["groups"][-1]["rules"]
    exprs = " ".join(r["expr"] for r in serving)
    for name in ("stead_serving_errors_total", "stead_serving_requests_total",
                 "stead_serving_request_duration_seconds_bucket"):
        assert name in exprs and name in samples


@needs_promtool
def test_data_drift_fires_after_for_and_only_where_drifted(tmp_path: Path) -> None:
    _test(tmp_path, alert_rules(), {
        'stead_drift_detected{deployment="churn"}': "0 0 1x30",
        'stead_drift_detected{deployment="fraud"}': "0x32",
    }, [
        {"at": "2m30s", "alert": "SteadDataDrift", "expect": []},  # drifted, but not yet for 1m
        {"at": "10m", "alert": "SteadDataDrift", "expect": [(
            {"severity": "warning", "deployment": "churn"},
            {"summary": "Data drift on deployment churn",
             "description": "The last monitor run of deployment churn found its live data drifted from the "
                            "reference (stead_drift_detected = 1)."})]},
    ])


@needs_promtool
def test_feature_drift_follows_each_tests_threshold(tmp_path: Path) -> None:
    f = 'stead_drift_score{{deployment="churn",feature="{}",test="{}"}}'
    _test(tmp_path, alert_rules(), {
        f.format("age", "ks"): "0.01x10",             # p < 0.05: drift
        f.format("plan", "chisquare"): "0.05x10",     # p at the threshold: no drift
        f.format("vip", "z"): "0.3x10",
        f.format("income", "wasserstein"): "0.1x10",  # distance at the threshold: drift
        f.format("country", "jensenshannon"): "0.04x10",
        f.format("tenure", "wasserstein"): "0.02x10",
    }, [{"at": "5m", "alert": "SteadFeatureDrift", "expect": [
        ({"severity": "warning", "deployment": "churn", "feature": "age", "test": "ks"},
         {"summary": "Feature age drifted on deployment churn",
          "description": "Feature age of deployment churn drifted: ks p-value 0.01 is below 0.05."}),
        ({"severity": "warning", "deployment": "churn", "feature": "income", "test": "wasserstein"},
         {"summary": "Feature income drifted on deployment churn",
          "description": "Feature income of deployment churn drifted: wasserstein distance 0.1 is at least 0.1."}),
    ]}])


@needs_promtool
def test_drift_share_counts_drifted_features(tmp_path: Path) -> None:
    f = 'stead_drift_score{{deployment="{}",feature="{}",test="{}"}}'
    series = {}
    for dep, drifted in (("churn", 2), ("fraud", 1)):
        for i in range(4):
            series[f.format(dep, f"x{i}", "ks")] = ("0.001" if i < drifted else "0.5") + "x10"
    _test(tmp_path, alert_rules(drift_share=0.5), series, [{"at": "5m", "alert": "SteadDriftShare", "expect": [(
        {"severity": "warning", "deployment": "churn"},
        {"summary": "Many features drifted on deployment churn",
         "description": "50% of the features of deployment churn drifted (alert at 50%)."})]}])


@needs_promtool
def test_performance_below_minimum_realized_and_estimated_apart(tmp_path: Path) -> None:
    p = 'stead_model_performance{{deployment="churn",variant="{}",metric="{}",estimated="{}"}}'
    _test(tmp_path, alert_rules(min_performance={"accuracy": 0.8, "rmse": 3}), {
        p.format("primary", "accuracy", "false"): "0.72x10",
        p.format("canary", "accuracy", "false"): "0.91x10",
        p.format("canary", "accuracy", "true"): "0.75x10",   # estimated: its own alert
        p.format("primary", "accuracy", "true"): "0.85x10",
        p.format("primary", "f1", "false"): "0.1x10",        # no threshold for f1
        p.format("primary", "rmse", "false"): "4x10",        # above the maximum
        p.format("canary", "rmse", "false"): "2x10",
    }, [
        {"at": "5m", "alert": "SteadModelPerformanceLow", "expect": [
            ({"severity": "critical", "deployment": "churn", "variant": "primary", "metric": "accuracy",
              "estimated": "false"},
             {"summary": "Live accuracy of deployment churn is out of bounds",
              "description": "Live accuracy of variant primary of deployment churn is 0.72, below the minimum 0.8."}),
            ({"severity": "critical", "deployment": "churn", "variant": "primary", "metric": "rmse",
              "estimated": "false"},
             {"summary": "Live rmse of deployment churn is out of bounds",
              "description": "Live rmse of variant primary of deployment churn is 4, above the maximum 3."}),
        ]},
        {"at": "5m", "alert": "SteadModelPerformanceEstimatedLow", "expect": [
            ({"severity": "warning", "deployment": "churn", "variant": "canary", "metric": "accuracy",
              "estimated": "true"},
             {"summary": "Estimated accuracy of deployment churn is out of bounds",
              "description": "Estimated accuracy of variant canary of deployment churn is 0.75, below the minimum "
                             "0.8."})]},
    ])


def _requests(dep: str, variant: str, code: int, per_minute: int) -> tuple[str, str]:
    return (f'stead_serving_requests_total{{deployment="{dep}",model_version="3",variant="{variant}",'
            f'protocol="v2",code="{code}"}}', f"0+{per_minute}x30")


def _errors(dep: str, variant: str, kind: str, per_minute: int) -> tuple[str, str]:
    return (f'stead_serving_errors_total{{deployment="{dep}",model_version="3",variant="{variant}",kind="{kind}"}}',
            f"0+{per_minute}x30")


@needs_promtool
def test_error_rate_per_deployment(tmp_path: Path) -> None:
    series = dict([
        # churn: 12 of 120 a minute fail on the server (10 %), spread over two variants
        _requests("churn", "primary", 200, 90), _requests("churn", "canary", 200, 18),
        _requests("churn", "canary", 500, 10), _requests("churn", "canary", 504, 2),
        _errors("churn", "canary", "server", 10), _errors("churn", "canary", "timeout", 2),
        # fraud: 1 of 100 (1 %)
        _requests("fraud", "primary", 200, 99), _requests("fraud", "primary", 500, 1),
        _errors("fraud", "primary", "server", 1),
        # api: half the requests are the callers' mistakes (400), none the server's
        _requests("api", "primary", 200, 50), _requests("api", "primary", 400, 50),
        _errors("api", "primary", "client", 50),
        # idle: no traffic at all
        _requests("idle", "primary", 200, 0), _errors("idle", "primary", "server", 0),
    ])
    _test(tmp_path, alert_rules(), series, [
        {"at": "4m", "alert": "SteadServingErrorRate", "expect": []},  # not yet for 5m
        {"at": "15m", "alert": "SteadServingErrorRate", "expect": [(
            {"severity": "critical", "deployment": "churn"},
            {"summary": "Deployment churn fails too many requests",
             "description": "10% of the requests to deployment churn failed (server, timeout errors) over the "
                            "last 5m; the limit is 5.00%."})]},
    ])
    # counting client errors too, api alerts as well
    _test(tmp_path, alert_rules(error_kinds=["client", "server", "timeout"]), series, [
        {"at": "15m", "alert": "SteadServingErrorRate", "expect": [
            ({"severity": "critical", "deployment": dep},
             {"summary": f"Deployment {dep} fails too many requests",
              "description": f"{rate} of the requests to deployment {dep} failed (client, server, timeout errors) "
                             "over the last 5m; the limit is 5.00%."}) for dep, rate in (("churn", "10%"),
                                                                                          ("api", "50%"))]}])


def _latency(dep: str, worker: str, per_minute: dict[str, int]) -> dict[str, str]:
    """Cumulative bucket series of ``stead_serving_request_duration_seconds`` with ``per_minute``
    requests a minute finishing under each bound."""
    out, total = {}, 0
    for le in ("0.05", "0.1", "0.5", "1.0", "+Inf"):
        total += per_minute.get(le, 0)
        out[f'stead_serving_request_duration_seconds_bucket{{deployment="{dep}",model_version="3",'
            f'variant="primary",le="{le}",instance="{worker}"}}'] = f"0+{total}x30"
    return out


@needs_promtool
def test_p99_latency_per_deployment_over_workers(tmp_path: Path) -> None:
    series = {
        # churn: one worker fast, the other answers 2 % of all requests in 0.5-1 s -> p99 about 0.75 s
        **_latency("churn", "w1", {"0.05": 98}), **_latency("churn", "w2", {"0.05": 0, "1.0": 2}),
        # fraud: everything under 0.1 s
        **_latency("fraud", "w1", {"0.05": 50, "0.1": 50}),
        # idle: no requests (p99 is NaN: no alert)
        **_latency("idle", "w1", {}),
    }
    _test(tmp_path, alert_rules(), series, [{"at": "15m", "alert": "SteadServingLatencyP99", "expect": [(
        {"severity": "warning", "deployment": "churn"},
        {"summary": "Deployment churn answers slowly",
         "description": "The p99 latency of deployment churn over the last 5m is 750ms; the limit is 0.5 s."})]}])
    # a looser limit keeps it quiet
    _test(tmp_path, alert_rules(max_p99=0.8), series,
          [{"at": "15m", "alert": "SteadServingLatencyP99", "expect": []}])


@needs_promtool
def test_named_deployments_only(tmp_path: Path) -> None:
    series = {'stead_drift_detected{deployment="churn"}': "1x10",
              'stead_drift_detected{deployment="fraud.v2"}': "1x10",
              'stead_drift_detected{deployment="fraudXv2"}': "1x10",  # '.' is not a wildcard
              'stead_drift_detected{deployment="other"}': "1x10"}
    def drifted(dep: str) -> tuple[dict[str, str], dict[str, str]]:
        return ({"severity": "warning", "deployment": dep},
                {"summary": f"Data drift on deployment {dep}",
                 "description": f"The last monitor run of deployment {dep} found its live data drifted from the "
                                "reference (stead_drift_detected = 1)."})

    _test(tmp_path, alert_rules(deployments=["churn", "fraud.v2"]), series, [
        {"at": "5m", "alert": "SteadDataDrift", "expect": [drifted("churn"), drifted("fraud.v2")]}])
    _test(tmp_path, alert_rules(deployments=["other"]), series, [
        {"at": "5m", "alert": "SteadDataDrift", "expect": [drifted("other")]}])


@pytest.mark.parametrize(("options", "message"), [
    ({"deployments": ["bad name"]}, "deployment name 'bad name' is not valid"),
    ({"deployments": ['a"b']}, "is not valid"),
    ({"max_error_rate": 1.5}, "max_error_rate must be a number from 0 to 1"),
    ({"max_p99": 0}, "max_p99 must be a positive number of seconds"),
    ({"drift_share": 0}, "drift_share must be above 0"),
    ({"window": "5 minutes"}, "is not a Prometheus duration"),
    ({"window": "0m"}, "window must be longer than zero"),
    ({"serving_for": ""}, "is not a Prometheus duration"),
    ({"min_performance": {"Accuracy!": 0.8}}, "is not a metric name"),
    ({"min_performance": {"accuracy": float("nan")}}, "must be a finite number"),
    ({"error_kinds": ["fatal"]}, "must name some of client, server, timeout"),
])
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        alert_rules(**options)


def test_write_rules_whole_or_not_at_all(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "stead.yml", alert_rules())
    assert yaml.safe_load(path.read_text())["groups"] and path.stat().st_mode & 0o044
    with pytest.raises(InvalidParameter, match="does not exist"):
        write_rules(tmp_path / "missing" / "stead.yml", "x")
    with pytest.raises(InvalidParameter, match="is a folder"):
        write_rules(tmp_path, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stead.yml"]  # no temporary file left


@needs_promtool
def test_cli_prints_or_writes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stead.cli.main import app

    runner = CliRunner()
    printed = runner.invoke(app, ["monitor", "rules", "--deployment", "churn", "--max-p99", "0.25"])
    assert printed.exit_code == 0, printed.output
    assert 'deployment="churn"' in printed.output and "> 0.25" in printed.output
    out = tmp_path / "stead.yml"
    wrote = runner.invoke(app, ["monitor", "rules", "--min-f1", "0.6", "--drift-share", "0.5", "--out", str(out)])
    assert wrote.exit_code == 0, wrote.output
    assert f"wrote 7 alerting rules for every deployment to {out}" in wrote.output
    assert 'metric="f1"' in out.read_text()
    assert "SUCCESS: 7 rules found" in _promtool("check", "rules", str(out))
    bad = runner.invoke(app, ["monitor", "rules", "--max-error-rate", "2", "--out", str(tmp_path / "no.yml")])
    assert isinstance(bad.exception, InvalidParameter)  # stead.cli.main.run prints it as one line
    assert "max_error_rate must be a number from 0 to 1" in str(bad.exception)
    assert not (tmp_path / "no.yml").exists()

"""Prometheus alerting rules for stead's metrics, as a rule file (``groups:``) that
``promtool check rules`` accepts.

Three groups:

- ``stead-drift``: a monitor's dataset verdict (``stead_drift_detected{deployment} == 1``),
  a feature whose drift score crosses its test's threshold (``stead_drift_score{deployment,
  feature,test}``: a p-value below ``p_value`` for ks, chisquare and z, a distance at or
  above ``distance`` for wasserstein and jensenshannon), and, with ``drift_share``, the share
  of a deployment's drifted features computed from those scores;
- ``stead-performance``: live performance below a minimum (or an error metric such as MAE
  above a maximum) from ``stead_model_performance{deployment,variant,metric,estimated}``,
  realized (``estimated="false"``) and estimated (``estimated="true"``) as separate alerts;
- ``stead-serving``: the error rate and the p99 latency of each deployment from the series
  ``stead serve`` exports (``stead_serving_errors_total``, ``stead_serving_requests_total``,
  ``stead_serving_request_duration_seconds_bucket``), summed over variants, versions and
  worker processes.

``rule_groups`` builds the file as data and ``alert_rules`` writes it as YAML text; both are
pure. ``write_rules`` writes the text to a file in one step (a temporary file renamed).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stead.errors import InvalidParameter

__all__ = ["rule_groups", "alert_rules", "write_rules", "P_VALUE_TESTS", "DISTANCE_TESTS"]

P_VALUE_TESTS = ("ks", "chisquare", "z")          # score is a p-value: drift when below the threshold
DISTANCE_TESTS = ("wasserstein", "jensenshannon")  # score is a distance: drift at or above it
LOWER_IS_BETTER = ("mae", "rmse")                  # thresholds on these are maxima

_DEPLOYMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # as stead.serving.deployments checks
_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DURATION = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")  # Prometheus' duration
_ERROR_KINDS = ("client", "server", "timeout")  # stead_serving_errors' kind label


def _duration(value: str, what: str) -> str:
    if not isinstance(value, str) or not value or not _DURATION.match(value):
        raise InvalidParameter(f"{what} {value!r} is not a Prometheus duration: write it like 30s, 5m, 1h or 1h30m")
    return value


def _fraction(value: float, what: str, *, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidParameter(f"{what} must be a number from {low:g} to {high:g}, not {value!r}")
    return float(value)


def _positive(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise InvalidParameter(f"{what} must be a positive number of seconds, not {value!r}")
    return float(value)


def _matcher(deployments: Sequence[str]) -> str:
    """The deployment label matcher: one name exactly, several as an anchored regex, none: all."""
    if isinstance(deployments, str):
        deployments = [deployments]
    names = list(dict.fromkeys(deployments))
    for name in names:
        if not isinstance(name, str) or not _DEPLOYMENT.match(name):
            raise InvalidParameter(f"deployment name {name!r} is not valid: letters, digits, '.', '_' and '-', "
                                   "starting with a letter or digit, at most 64 characters")
    if not names:
        return ""
    if len(names) == 1:
        return f'deployment="{names[0]}"'
    # PromQL regexes are anchored RE2; '.' is the only metacharacter a deployment name can hold.
    return 'deployment=~"' + "|".join(n.replace(".", "\\\\.") for n in names) + '"'


def _select(metric: str, *matchers: str) -> str:
    inner = ",".join(m for m in matchers if m)
    return f"{metric}{{{inner}}}" if inner else metric


def _rule(alert: str, expr: str, for_: str, severity: str, summary: str, description: str) -> dict[str, Any]:
    return {"alert": alert, "expr": expr, "for": for_, "labels": {"severity": severity},
            "annotations": {"summary": summary, "description": description}}


def _drift_rules(dep: str, p_value: float, distance: float, drift_share: float | None,
                 for_: str) -> list[dict[str, Any]]:
    p_tests = 'test=~"' + "|".join(P_VALUE_TESTS) + '"'
    d_tests = 'test=~"' + "|".join(DISTANCE_TESTS) + '"'
    p_drifted = f"{_select('stead_drift_score', dep, p_tests)} < {p_value:g}"
    d_drifted = f"{_select('stead_drift_score', dep, d_tests)} >= {distance:g}"
    tests = "|".join(P_VALUE_TESTS)
    rules = [
        _rule("SteadDataDrift", f"{_select('stead_drift_detected', dep)} == 1", for_, "warning",
              "Data drift on deployment {{ $labels.deployment }}",
              "The last monitor run of deployment {{ $labels.deployment }} found its live data drifted "
              "from the reference (stead_drift_detected = {{ $value }})."),
        _rule("SteadFeatureDrift", f"({p_drifted}) or ({d_drifted})", for_, "warning",
              "Feature {{ $labels.feature }} drifted on deployment {{ $labels.deployment }}",
              "Feature {{ $labels.feature }} of deployment {{ $labels.deployment }} drifted: {{ $labels.test }} "
              f'{{{{ if match "^({tests})$" $labels.test }}}}p-value {{{{ $value | printf "%.4g" }}}} is below '
              f'{p_value:g}{{{{ else }}}}distance {{{{ $value | printf "%.4g" }}}} is at least {distance:g}'
              "{{ end }}."),
    ]
    if drift_share is not None:
        share = (f"count by (deployment) (({p_drifted}) or ({d_drifted})) "
                 f"/ count by (deployment) ({_select('stead_drift_score', dep)}) >= {drift_share:g}")
        rules.append(_rule(
            "SteadDriftShare", share, for_, "warning",
            "Many features drifted on deployment {{ $labels.deployment }}",
            "{{ $value | humanizePercentage }} of the features of deployment {{ $labels.deployment }} drifted "
            f"(alert at {drift_share:.0%})."))
    return rules


def _performance_rules(dep: str, thresholds: Mapping[str, float], for_: str) -> list[dict[str, Any]]:
    """One alert for realized and one for estimated performance, each an ``or`` of one
    comparison per metric (rules with one name and the same labels must be one rule)."""
    if not thresholds:
        return []
    limits = []
    for metric, limit in thresholds.items():
        if not isinstance(metric, str) or not _METRIC.match(metric):
            raise InvalidParameter(f"performance metric {metric!r} is not a metric name (accuracy, f1, roc_auc, "
                                   "mae, rmse, ...)")
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not abs(limit) < float("inf"):
            raise InvalidParameter(f"the threshold for {metric} must be a finite number, not {limit!r}")
        limits.append((metric, "above the maximum" if metric in LOWER_IS_BETTER else "below the minimum", limit))
    words = "".join(f'{{{{ {"if" if i == 0 else "else if"} eq $labels.metric "{m}" }}}}{w} {v:g}'
                    for i, (m, w, v) in enumerate(limits)) + "{{ end }}"
    rules = []
    for estimated, alert, severity, kind in (("false", "SteadModelPerformanceLow", "critical", "Live"),
                                             ("true", "SteadModelPerformanceEstimatedLow", "warning", "Estimated")):
        parts = [_select("stead_model_performance", dep, f'metric="{m}"', f'estimated="{estimated}"')
                 + f" {'>' if m in LOWER_IS_BETTER else '<'} {v:g}" for m, _, v in limits]
        expr = parts[0] if len(parts) == 1 else " or ".join(f"({p})" for p in parts)
        rules.append(_rule(
            alert, expr, for_, severity,
            f"{kind} {{{{ $labels.metric }}}} of deployment {{{{ $labels.deployment }}}} is out of bounds",
            f"{kind} {{{{ $labels.metric }}}} of variant {{{{ $labels.variant }}}} of deployment "
            f'{{{{ $labels.deployment }}}} is {{{{ $value | printf "%.4g" }}}}, {words}.'))
    return rules


def _serving_rules(dep: str, max_error_rate: float, max_p99: float, error_kinds: Sequence[str], window: str,
                   for_: str) -> list[dict[str, Any]]:
    kinds = list(dict.fromkeys(error_kinds))
    if not kinds or any(k not in _ERROR_KINDS for k in kinds):
        raise InvalidParameter(f"error kinds {list(error_kinds)!r} must name some of {', '.join(_ERROR_KINDS)}")
    kind = f'kind="{kinds[0]}"' if len(kinds) == 1 else 'kind=~"' + "|".join(kinds) + '"'
    errors = f"sum by (deployment) (rate({_select('stead_serving_errors_total', dep, kind)}[{window}]))"
    requests = f"sum by (deployment) (rate({_select('stead_serving_requests_total', dep)}[{window}]))"
    buckets = (f"sum by (deployment, le) "
               f"(rate({_select('stead_serving_request_duration_seconds_bucket', dep)}[{window}]))")
    return [
        _rule("SteadServingErrorRate", f"{errors} / {requests} > {max_error_rate:g}", for_, "critical",
              "Deployment {{ $labels.deployment }} fails too many requests",
              f"{{{{ $value | humanizePercentage }}}} of the requests to deployment {{{{ $labels.deployment }}}} "
              f"failed ({', '.join(kinds)} errors) over the last {window}; the limit is {max_error_rate:.2%}."),
        _rule("SteadServingLatencyP99", f"histogram_quantile(0.99, {buckets}) > {max_p99:g}", for_, "warning",
              "Deployment {{ $labels.deployment }} answers slowly",
              f"The p99 latency of deployment {{{{ $labels.deployment }}}} over the last {window} is "
              f"{{{{ $value | humanizeDuration }}}}; the limit is {max_p99:g} s."),
    ]


def rule_groups(*, deployments: Sequence[str] = (), max_error_rate: float = 0.05, max_p99: float = 0.5,
                min_performance: Mapping[str, float] | None = None, drift_share: float | None = None,
                p_value: float = 0.05, distance: float = 0.1, error_kinds: Sequence[str] = ("server", "timeout"),
                window: str = "5m", serving_for: str = "5m", monitor_for: str = "1m") -> dict[str, Any]:
    """The rule file as data: ``{"groups": [...]}``.

    ``deployments``: the deployments the rules cover (none: every deployment, by label).
    ``max_error_rate``: the share of requests that may fail (``error_kinds`` of
    ``stead_serving_errors``; client errors are the caller's and are not counted by default).
    ``max_p99``: seconds. ``min_performance``: metric -> threshold, a minimum for accuracy, f1,
    roc_auc and the like, a maximum for mae and rmse (default ``{"accuracy": 0.8}``; ``{}``:
    no performance rules). ``drift_share``: also alert when at least this share of a
    deployment's features drifted. ``p_value`` and ``distance``: the feature drift thresholds
    (stead's defaults). ``window``: the ``rate()`` range. ``serving_for`` and ``monitor_for``:
    how long a condition holds before the alert fires, for the serving rules and for the
    drift and performance rules (a monitor's gauges change once per run).
    """
    dep = _matcher(deployments)
    _fraction(max_error_rate, "max_error_rate")
    _positive(max_p99, "max_p99")
    _fraction(p_value, "p_value")
    _fraction(distance, "distance")
    if drift_share is not None and not 0 < _fraction(drift_share, "drift_share"):
        raise InvalidParameter("drift_share must be above 0 (at 0 every deployment with drift scores alerts)")
    window = _duration(window, "window")
    if not re.sub(r"\D", "", window).strip("0"):
        raise InvalidParameter("window must be longer than zero, for example 5m")
    serving_for = _duration(serving_for, "serving_for")
    monitor_for = _duration(monitor_for, "monitor_for")
    thresholds = {"accuracy": 0.8} if min_performance is None else dict(min_performance)
    groups = [
        {"name": "stead-drift", "rules": _drift_rules(dep, p_value, distance, drift_share, monitor_for)},
        {"name": "stead-performance", "rules": _performance_rules(dep, thresholds, monitor_for)},
        {"name": "stead-serving", "rules": _serving_rules(dep, max_error_rate, max_p99, error_kinds, window,
                                                          serving_for)},
    ]
    return {"groups": [g for g in groups if g["rules"]]}


def alert_rules(**options: Any) -> str:
    """The rule file as YAML text; ``options`` are ``rule_groups``'."""
    import yaml

    return str(yaml.safe_dump(rule_groups(**options), sort_keys=False, default_flow_style=False, width=100_000,
                              allow_unicode=True))


def write_rules(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (from ``alert_rules``) to ``path`` whole or not at all: a temporary file in
    the same folder, renamed over ``path``."""
    target = Path(path)
    if target.is_dir():
        raise InvalidParameter(f"{target} is a folder: name the rule file to write, for example "
                               f"{target / 'stead.rules.yml'}")
    if not target.parent.is_dir():
        raise InvalidParameter(f"folder {target.parent} does not exist: create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a prometheus user
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

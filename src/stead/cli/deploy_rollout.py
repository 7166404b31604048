"""``stead deploy rollout | history | ab-report``: progressive rollouts with automatic analysis
(``stead.monitoring.rollout``) and the A/B verdict between a deployment's variants. The
commands are registered on ``stead deploy`` (``stead.cli.deploy``)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import typer

from stead.cli.common import JSON_OPTION, deployments_service
from stead.errors import InvalidParameter

__all__ = ["rollout", "history", "ab_report", "duration"]

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_VERBS = ("status", "pause", "resume", "abort", "watch")


def duration(text: str, what: str) -> float:
    """Seconds in ``30s``, ``1m``, ``2h``, ``1d`` or a plain number of seconds."""
    match = _DURATION.match(text.strip())
    if not match or float(match[1]) <= 0:
        raise InvalidParameter(f"{what} {text!r} is not a positive duration: write it like 30s, 1m, 2h or 1d")
    return float(match[1]) * _UNITS[match[2]]


def _artifacts() -> Any:
    from stead.artifacts.factory import open_artifact_store
    from stead.cli.common import settings

    return open_artifact_store(settings().resolved_artifacts_url, settings().aws)


def _pct(value: Any) -> str:
    return "" if value is None else f"{value:g}"


def _show_rollout(r: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(r.to_json(), indent=2))
        return
    from stead.cli.output import fmt_time, print_table

    nxt = fmt_time(int(r.due_at * 1000)) if r.state == "progressing" else ""
    print_table(f"rollout {r.id} of deployment {r.deployment}",
                ["candidate", "version", "state", "weight", "step", "max", "interval", "failed", "next analysis"],
                [[r.candidate, r.candidate_version, r.state, f"{r.weight}%", f"{r.step}%", f"{r.max_weight}%",
                  f"{r.interval_s:g} s", f"{r.failed} of {r.checks}", nxt]])
    if r.reason:
        typer.echo(r.reason)


def _line(d: Any) -> str:
    from stead.cli.output import fmt_time

    verdict = f" {d.verdict} (score {d.score:.0f})" if d.verdict else ""
    return f"{fmt_time(d.time)} {d.action}{verdict}: {d.weight_before}% -> {d.weight_after}%: {d.message}"


def rollout(
    words: list[str] = typer.Argument(..., metavar="[status|pause|resume|abort|watch] DEPLOYMENT",
                                      help="The deployment to roll a candidate out onto, or a verb and the "
                                           "deployment."),
    candidate: str = typer.Option(None, "--candidate", help="The model to roll out: NAME@ALIAS or NAME/VERSION "
                                                            "(pinned to the version it resolves to now)."),
    step: int = typer.Option(10, "--step", help="Percent of traffic the candidate gains after each passed analysis."),
    max_weight: int = typer.Option(50, "--max", help="The most traffic the candidate gets before it is promoted."),
    interval: str = typer.Option("1m", "--interval", help="Time between analyses: 30s, 1m, 1h."),
    checks: int = typer.Option(5, "--checks", help="Roll back at this many failed analyses."),
    min_samples: int = typer.Option(50, "--min-samples", min=1,
                                    help="Requests each variant needs in a window for a check to count."),
    wait: bool = typer.Option(False, "--wait", help="Run the analyses here until the rollout ends (exit 0 when "
                                                    "promoted, 1 otherwise)."),
    reason: str = typer.Option("", "--reason", help="pause, resume, abort: recorded with the decision."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Roll a candidate out step by step, analysed each interval; or show, pause, resume, abort it.

    A passed analysis adds --step percent up to --max, and a pass at --max promotes (the
    primary's alias moves to the candidate's version); the --checks-th failed analysis rolls
    back; an inconclusive one pauses for a person. --wait (or watch, for the rollout in
    progress) makes the decisions in this process, each when due, until the rollout ends.

    Example: stead deploy rollout churn --candidate churn@candidate --step 10 --max 50 --interval 1m --checks 5

    Example: stead deploy rollout status churn

    Example: stead deploy rollout watch churn
    """
    from stead.monitoring import rollout as ro

    if len(words) == 2 and words[0] in _VERBS:
        verb, name = words
        svc = deployments_service()
        if verb == "watch":
            svc.get(name)
            _drive(svc, ro.current(svc.store, name), as_json)
            return
        if verb == "status":
            svc.get(name)  # NotFound for a deployment that does not exist
            got = ro.current(svc.store, name)
        else:
            got = getattr(ro, verb)(svc, name, reason=reason)
        _show_rollout(got, as_json)
        return
    if len(words) != 1:
        raise InvalidParameter(f"Expected DEPLOYMENT or one of {', '.join(_VERBS)} and DEPLOYMENT, got "
                               f"{' '.join(words)!r}")
    if not candidate:
        raise InvalidParameter("Name the model to roll out with --candidate (e.g. --candidate churn@candidate)")
    svc = deployments_service()
    r = ro.start(svc, words[0], candidate, step=step, max_weight=max_weight,
                 interval_s=duration(interval, "--interval"), checks=checks, options={"min_samples": min_samples},
                 user=getattr(svc.registry, "user", "") or "")
    if not wait:
        _show_rollout(r, as_json)
        if not as_json:
            typer.echo(f"the analyses run in stead deploy rollout watch {r.deployment} (or any scheduler calling "
                       "stead.monitoring.rollout.tick)")
        return
    if not as_json:
        typer.echo(f"rollout {r.id}: {r.candidate} (version {r.candidate_version}) has {r.weight}% of {r.deployment}")
    _drive(svc, r, as_json)


def _drive(svc: Any, r: Any, as_json: bool) -> None:
    """Make the rollout's decisions here, each when due, until it stops progressing; exit 1
    unless it was promoted."""
    from stead.monitoring import rollout as ro

    artifacts = _artifacts()
    while r.state == "progressing":
        time.sleep(max(0.0, r.due_at - time.time()))  # a scheduler's wait for the next interval
        for d in ro.tick(svc.store, artifacts, registry=svc.registry, deployment=r.deployment):
            if as_json:
                typer.echo(json.dumps(d.to_json()))
            else:
                typer.echo(_line(d))
        r = ro.current(svc.store, r.deployment)
    if not as_json:
        typer.echo(f"rollout {r.id} {r.state}")
    if r.state != "promoted":
        raise typer.Exit(1)


def _key_numbers(analysis: dict[str, Any] | None) -> str:
    if not analysis:
        return ""
    v = analysis.get("variants") or {}
    c, p = v.get(analysis.get("candidate"), {}), v.get(analysis.get("primary"), {})
    out = [f"requests {c.get('requests', 0)}/{p.get('requests', 0)}",
           f"errors {c.get('errors', 0)}/{p.get('errors', 0)}"]
    if c.get("median_latency_ms") is not None and p.get("median_latency_ms") is not None:
        out.append(f"p50 {c['median_latency_ms']:.3g}/{p['median_latency_ms']:.3g} ms")
    failed = [ch["name"] for ch in analysis.get("checks", []) if ch["status"] != "pass"]
    if failed:
        out.append(f"not passed: {', '.join(failed)}")
    return "; ".join(out)


def history(name: str = typer.Argument(..., help="The deployment."), as_json: bool = JSON_OPTION) -> None:
    """Every rollout decision on a deployment: time, weight, verdict, score, key numbers.

    Example: stead deploy history churn
    """
    from stead.monitoring import rollout as ro

    svc = deployments_service()
    svc.get(name)
    rows = ro.history(svc.store, name)
    if as_json:
        typer.echo(json.dumps([{**d.to_json(), "candidate": r.candidate, "candidate_version": r.candidate_version}
                               for r, d in rows], indent=2))
        return
    from stead.cli.output import fmt_time, print_table

    if not rows:
        typer.echo(f"deployment {name} has had no rollout")
        return
    print_table(f"rollout decisions of deployment {name} (numbers: candidate/primary)",
                ["time", "rollout", "candidate", "action", "weight", "verdict", "score", "numbers"],
                [[fmt_time(d.time), str(r.id), f"{r.candidate} ({r.candidate_version})", d.action,
                  f"{d.weight_before}% -> {d.weight_after}%", d.verdict or "",
                  "" if d.score is None else f"{d.score:.0f}",
                  _key_numbers(d.analysis)] for r, d in rows])


def ab_report(
    name: str = typer.Argument(..., help="The deployment."),
    metric: str = typer.Option("accuracy", "--metric", help="accuracy (needs labels), latency or error_rate."),
    min_effect: float = typer.Option(None, "--min-effect", help="The smallest difference worth finding (accuracy "
                                                                "and error_rate: 0.02 is two points; latency: ms)."),
    since: str = typer.Option("24h", "--since", help="How far back to read the prediction log: 1h, 24h, 7d."),
    min_samples: int = typer.Option(100, "--min-samples", min=2, help="Samples per variant before any verdict."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Which variant is better on a metric, with an always-valid p-value; from the prediction log.

    Per variant: n, mean and CI, the p-value against the primary (valid however often you
    look), the samples still needed, and a one-line verdict.

    Example: stead deploy ab-report churn --metric accuracy --min-effect 0.02
    """
    from stead.monitoring.variants import VariantSamples, ab_reports, read_variants

    svc = deployments_service()
    dep = svc.get(name)
    now = time.time()
    start = now - duration(since, "--since")
    live = [v.name for v in dep.variants if not v.shadow]
    versions = {v.name: str(svc.registry.get_version(v.model).version) for v in dep.variants if not v.shadow}
    found = read_variants(_artifacts(), name, start, now, versions=versions)
    samples = {v: found.get(v, VariantSamples(v)) for v in live}
    primary = dep.primary().name
    reports = ab_reports(samples, metric, primary, min_effect=min_effect, min_samples=min_samples)
    if as_json:
        typer.echo(json.dumps({"deployment": name, "metric": metric, "baseline": primary, "since": int(start * 1000),
                               "reports": [rep.to_json() for rep in reports]}, indent=2))
        return
    from stead.cli.output import print_table

    def num(x: float) -> str:
        return "" if x != x else f"{x:.4g}"

    rows = []
    if reports:
        a = reports[0].a
        rows.append([a.name, str(a.n), num(a.mean), f"{num(a.ci_low)}..{num(a.ci_high)}", "(baseline)", "", ""])
    for rep in reports:
        b = rep.b
        rows.append([b.name, str(b.n), num(b.mean), f"{num(b.ci_low)}..{num(b.ci_high)}",
                     f"{rep.p_value:.3g}",
                     f"{num(rep.difference)} ({num(rep.difference_low)}..{num(rep.difference_high)})",
                     str(rep.more_per_variant)])
    print_table(f"A/B on {metric} of deployment {name}, since {since} ago",
                ["variant", "n", "mean", "95% CI", "p (always valid)", "difference (CI)", "more needed"], rows)
    for rep in reports:
        typer.echo(f"{rep.b.name} vs {rep.a.name}: {rep.verdict}")
    if not reports:
        typer.echo(f"deployment {name} has one live variant: nothing to compare")

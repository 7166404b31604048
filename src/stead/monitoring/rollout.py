"""Progressive rollouts: a candidate model takes traffic step by step while a judge compares
it with the primary, and is promoted or rolled back on what the judge finds (Flagger's loop).

    rollout = start(svc, "churn", "churn@candidate", step=10, max_weight=50, interval_s=60, checks=5)
    tick(store, artifacts, registry=registry)   # every interval: one decision per due rollout

- ``start`` serves the candidate (pinned to the version it resolves to now) as the canary
  variant with ``step`` percent of traffic, the primary the rest.
- Each ``interval_s``, ``tick`` analyses the prediction log since the last decision
  (``analyse``: latency by Mann-Whitney with a Hodges-Lehmann band, the error rate by a
  two-proportion test (critical), the candidate's predictions against the primary's by the
  drift test Evidently would choose, and live accuracy once labels exist; a check without
  enough samples counts against) and ``decide`` says what follows: a pass adds ``step``
  percent up to ``max_weight``, and a pass at ``max_weight`` promotes (the primary's alias
  moves to the candidate's version, through ``stead.serving.promotion``); a fail counts, and
  the ``checks``-th failed analysis rolls back (the canary variant is removed); an
  inconclusive analysis pauses the rollout for a person (``resume`` or ``abort``).
- ``decide`` is pure; ``tick`` is the I/O around it. Two controllers may tick at once (on
  PostgreSQL, in several processes): each claims a due rollout by a conditional UPDATE of
  its ``updated_at``, so one decision is made per interval.
- Every decision is stored with its analysis (``rollout_decisions``); ``history`` reads them.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, InvalidState, NotFound
from stead.monitoring.rollout_records import (
    ABORTED,
    ACTIVE,
    OPTIONS,
    PAUSED,
    PROGRESSING,
    PROMOTED,
    ROLLED_BACK,
    Decision,
    Rollout,
    active,
    current,
    from_row,
    history,
    ms,
    plain,
    record,
)

if TYPE_CHECKING:
    from stead.monitoring.judge import Analysis
    from stead.monitoring.variants import VariantSamples
    from stead.serving.deployments import Deployments

__all__ = ["Rollout", "Decision", "Step", "OPTIONS", "ACTIVE", "start", "decide", "analyse", "tick", "claim",
           "current", "history", "pause", "resume", "abort", "analysis_now"]

log = logging.getLogger("stead.monitoring")


@dataclass(frozen=True)
class Step:
    """What ``decide`` says follows an analysis: the action, the canary's weight after it, the
    failed analyses so far and the rollout's state."""

    action: str  # step, hold, pause, promote, rollback
    weight: int
    failed: int
    state: str
    message: str


def decide(rollout: Rollout, verdict: str) -> Step:
    """The next step of ``rollout`` after an analysis with ``verdict`` (pure)."""
    w, failed = rollout.weight, rollout.failed
    if verdict == "pass":
        if w >= rollout.max_weight:
            return Step("promote", 100, failed, PROMOTED, f"analysis passed at {w}%: promoting")
        after = min(w + rollout.step, rollout.max_weight)
        return Step("step", after, failed, PROGRESSING, f"analysis passed: {w}% -> {after}%")
    if verdict == "fail":
        failed += 1
        if failed >= rollout.checks:
            return Step("rollback", 0, failed, ROLLED_BACK,
                        f"analysis failed ({failed} of {rollout.checks} allowed): rolling back")
        return Step("hold", w, failed, PROGRESSING, f"analysis failed ({failed} of {rollout.checks}): holding {w}%")
    if verdict == "inconclusive":
        return Step("pause", w, failed, PAUSED, f"analysis inconclusive: paused at {w}% for a person "
                                                "(stead deploy rollout resume or abort)")
    raise InvalidParameter(f"verdict must be pass, fail or inconclusive, got {verdict!r}")


def analyse(samples: Mapping[str, VariantSamples], primary: str, candidate: str,
            options: Mapping[str, float] | None = None) -> Analysis:
    """The judge's verdict on ``candidate`` against ``primary`` from their samples (pure)."""
    from stead.monitoring import judge
    from stead.monitoring.variants import VariantSamples

    o = {**OPTIONS, **(options or {})}
    c, p = samples.get(candidate, VariantSamples(candidate)), samples.get(primary, VariantSamples(primary))
    n, alpha = int(o["min_samples"]), float(o["alpha"])
    checks = [
        judge.latency_check(c.latency_ms, p.latency_ms, tolerance=o["latency_tolerance"],
                            absolute_tolerance=o["latency_absolute_ms"], alpha=alpha, min_samples=n),
        judge.error_rate_check(c.errors, c.requests, p.errors, p.requests, tolerance=o["error_tolerance"],
                               alpha=alpha, min_samples=n),
        judge.prediction_drift_check(c.predictions, p.predictions, _drift, min_samples=n),
    ]
    if c.labelled or p.labelled:
        checks.append(judge.accuracy_check(int(c.correct.sum()), c.labelled, int(p.correct.sum()), p.labelled,
                                           tolerance=o["accuracy_tolerance"], alpha=alpha, min_samples=n))
    return judge.canary_verdict(checks, pass_score=o["pass_score"], marginal_score=o["marginal_score"])


def _drift(primary: Any, candidate: Any) -> Any:
    from stead.monitoring.drift import detect_drift
    from stead.monitoring.reference import compute_reference

    try:
        ref = compute_reference({"prediction": primary}, prediction="prediction", multivariate=False)
        found = detect_drift(ref, {"prediction": candidate}, multivariate=False).prediction
    except InvalidParameter:
        return (None, None)  # predictions of no type the drift tests read: no data
    return found if found is not None else (None, None)


# ---- moving traffic ----------------------------------------------------------------------

def _set_canary(svc: Deployments, r: Rollout, weight: int | None) -> None:
    """Give the canary ``weight`` percent and the primary the rest; ``None`` removes the canary."""
    dep = svc.get(r.deployment)
    primary = dep.primary().name
    out = []
    for v in dep.variants:
        if v.name == r.variant:
            if weight is not None:
                out.append(replace(v, weight=weight))
        elif v.name == primary:
            out.append(replace(v, weight=100 - (weight or 0)))
        else:
            out.append(v)
    svc.save_variants(dep, tuple(out))


def start(svc: Deployments, deployment: str, candidate: str, *, step: int = 10, max_weight: int = 50,
          interval_s: float = 60.0, checks: int = 5, options: Mapping[str, float] | None = None,
          variant: str = "canary", user: str = "", now: float | None = None) -> Rollout:
    """Start rolling ``candidate`` out onto ``deployment``: it is served as ``variant`` with
    ``step`` percent of traffic. Refused (nothing changed) for a deployment that does not
    exist, is blue-green or already has a rollout in progress or traffic on another variant,
    a candidate that does not resolve or is another model, and settings out of range."""
    from stead.serving.deployments import Variant, parse_model_ref
    from stead.serving.tables import rollouts as t

    if not 1 <= step <= 100 or not 1 <= max_weight <= 100:
        raise InvalidParameter(f"--step ({step}) and --max ({max_weight}) must be percentages from 1 to 100")
    if step > max_weight:
        raise InvalidParameter(f"--step {step} is more than --max {max_weight}: the first step would pass the "
                               "maximum weight")
    if not (isinstance(interval_s, (int, float)) and math.isfinite(interval_s) and interval_s > 0):
        raise InvalidParameter(f"--interval must be a positive number of seconds, got {interval_s!r}")
    if checks < 1:
        raise InvalidParameter(f"--checks must be at least 1 (the failed analyses that roll back), got {checks}")
    unknown = sorted(set(options or {}) - set(OPTIONS))
    if unknown:
        raise InvalidParameter(f"Unknown analysis options {unknown}; known: {', '.join(OPTIONS)}")
    dep = svc.get(deployment)
    if dep.blue_green:
        raise InvalidParameter(f"Deployment {deployment!r} is blue-green: stage the candidate on the idle color "
                               f"and stead deploy switch {deployment}")
    running = active(svc.store, deployment)
    if running is not None:
        raise InvalidState(f"Deployment {deployment!r} already has a rollout {running.state} ({running.candidate} "
                           f"at {running.weight}%); stop it with stead deploy rollout abort {deployment}")
    if svc.registry is None:
        raise InvalidState("A rollout needs the model registry to resolve its candidate")
    name, _, _ = parse_model_ref(candidate)
    try:
        version = svc.registry.get_version(candidate)
    except (NotFound, InvalidParameter) as exc:  # the registry answers an unknown alias as MLflow does
        raise NotFound(f"Candidate {candidate!r} does not resolve to a model version: {exc.message}") from None
    primary = dep.primary()
    p_name = primary.model_ref()[0]
    if p_name != name:
        raise InvalidParameter(f"Candidate {candidate!r} is not a version of {p_name!r}, the model the primary of "
                               f"{deployment!r} serves ({primary.model}): a promotion could not replace it")
    try:
        serving = str(svc.registry.get_version(primary.model).version)
    except (NotFound, InvalidParameter):
        serving = None  # the primary's reference does not resolve now: nothing to compare
    if serving == str(version.version):
        raise InvalidParameter(f"Candidate {candidate!r} is version {version.version}, which the primary of "
                               f"{deployment!r} serves already ({primary.model})")
    others = [v for v in dep.variants if not v.shadow and v.name != primary.name and v.weight > 0]
    if others:
        raise InvalidState(f"Deployment {deployment!r} already splits traffic ("
                           f"{', '.join(f'{v.name}={v.weight}' for v in others)}); give the primary all of it "
                           f"first (stead deploy set-traffic {deployment} {primary.name}=100 ...)")
    if variant == primary.name or any(v.name == variant and v.shadow for v in dep.variants):
        raise InvalidParameter(f"Variant {variant!r} of {deployment!r} is the primary or a shadow; "
                               "name the rollout's canary variant otherwise")
    pinned = Variant(variant, f"{version.name}/{version.version}", step)
    variants = [pinned if v.name == variant else v for v in dep.variants]
    if not any(v.name == variant for v in dep.variants):
        variants.append(pinned)
    now_ms = ms(time.time() if now is None else now)
    opts = {**OPTIONS, **{k: float(v) for k, v in (options or {}).items()}}
    svc.save_variants(dep, tuple(replace(v, weight=100 - step) if v.name == primary.name else v for v in variants))
    with svc.store.write() as conn:
        rid = conn.execute(t.insert().values(
            deployment=deployment, variant=variant, candidate=candidate, candidate_version=str(version.version),
            step=step, max_weight=max_weight, interval_s=float(interval_s), checks=checks, options=json.dumps(opts),
            state=PROGRESSING, weight=step, failed=0, reason="", user_id=user, started_at=now_ms,
            updated_at=now_ms)).inserted_primary_key[0]
        r = Rollout(int(rid), deployment, variant, candidate, str(version.version), step, max_weight,
                    float(interval_s), checks, opts, PROGRESSING, 0, 0, "", user, now_ms, now_ms)
        record(conn, r, now_ms, "start", f"{candidate} (version {version.version}) gets {step}% as {variant}", step)
    return replace(r, weight=step)


def _change(svc: Deployments, deployment: str, want: tuple[str, ...], state: str, action: str, message: str,
            now: float | None) -> Rollout:
    """Move the rollout in progress from one of ``want`` states to ``state``, recorded."""
    from stead.serving.tables import rollouts as t

    r = active(svc.store, deployment)
    if r is None:
        svc.get(deployment)
        raise NotFound(f"Deployment {deployment!r} has no rollout in progress")
    if r.state not in want:
        raise InvalidState(f"The rollout of {deployment!r} is {r.state}; it must be {' or '.join(want)} to {action}")
    now_ms = ms(time.time() if now is None else now)
    weight = r.weight
    if state == ABORTED:
        try:
            _set_canary(svc, r, None)
        except NotFound:
            pass  # the deployment or its canary is gone already: only the rollout is left to end
        weight = 0
    with svc.store.write() as conn:
        done = conn.execute(t.update().where(t.c.id == r.id, t.c.state == r.state).values(
            state=state, weight=weight, reason=message, updated_at=now_ms)).rowcount
        if done != 1:
            raise InvalidState(f"The rollout of {deployment!r} changed meanwhile; look again with "
                               f"stead deploy rollout status {deployment}")
        record(conn, r, now_ms, action, message, weight)
    return replace(r, state=state, weight=weight, reason=message, updated_at=now_ms)


def pause(svc: Deployments, deployment: str, *, reason: str = "", now: float | None = None) -> Rollout:
    """Stop analysing and stepping; traffic stays where it is."""
    return _change(svc, deployment, (PROGRESSING,), PAUSED, "pause", reason or "paused by a person", now)


def resume(svc: Deployments, deployment: str, *, reason: str = "", now: float | None = None) -> Rollout:
    """Carry on: the next analysis covers one interval from now."""
    return _change(svc, deployment, (PAUSED,), PROGRESSING, "resume", reason or "resumed by a person", now)


def abort(svc: Deployments, deployment: str, *, reason: str = "", now: float | None = None) -> Rollout:
    """End the rollout: the canary variant is removed, the primary gets all traffic back."""
    return _change(svc, deployment, ACTIVE, ABORTED, "abort", reason or "aborted by a person", now)


# ---- the controller ----------------------------------------------------------------------

def tick(store: Any, artifacts: Any, now: float | None = None, *, registry: Any = None,
         deployment: str | None = None) -> list[Decision]:
    """One decision for every progressing rollout whose interval is over at ``now`` (seconds
    since the epoch; default the clock), or only ``deployment``'s. A rollout another
    controller claimed first is left to it. Returns the decisions made here."""
    from stead.serving.deployments import Deployments
    from stead.serving.tables import rollouts as t

    svc = Deployments(store, registry)
    now = time.time() if now is None else float(now)
    query = t.select().where(t.c.state == PROGRESSING)
    if deployment is not None:
        query = query.where(t.c.deployment == deployment)
    with store.read() as conn:
        due = [r for r in map(from_row, conn.execute(query.order_by(t.c.id)).mappings())
               if r.updated_at + ms(r.interval_s) <= ms(now)]
    made = []
    for r in due:
        if not claim(store, r, now):
            continue  # another controller took this interval
        try:
            made.append(_decide_one(svc, artifacts, r, now))
        except Exception as exc:  # noqa: BLE001 - one rollout's trouble must not stop the others
            log.exception("rollout %s of %s: the analysis failed", r.id, r.deployment)
            with store.write() as conn:
                made.append(record(conn, r, ms(now), "error", f"the analysis failed, tried again next interval: "
                                    f"{type(exc).__name__}: {exc}", r.weight, window_start=r.updated_at))
    return made


def claim(store: Any, r: Rollout, now: float) -> bool:
    """Take the decision on ``r`` for the interval ending at ``now``: true for exactly one
    caller among those that read the same ``r``."""
    from stead.serving.tables import rollouts as t

    with store.write() as conn:
        return bool(conn.execute(t.update().where(t.c.id == r.id, t.c.state == PROGRESSING,
                                                  t.c.updated_at == r.updated_at)
                                 .values(updated_at=ms(now))).rowcount == 1)


def _decide_one(svc: Deployments, artifacts: Any, r: Rollout, now: float) -> Decision:
    from stead.monitoring.variants import read_variants
    from stead.serving import promotion
    from stead.serving.tables import rollouts as t

    now_ms = ms(now)
    analysis: dict[str, Any] | None = None
    try:
        dep = svc.get(r.deployment)
        dep.variant(r.variant)
    except NotFound as exc:
        step = Step("abort", 0, r.failed, ABORTED, f"stopped: {exc.message}")
    else:
        primary = dep.primary().name
        samples = read_variants(artifacts, r.deployment, r.updated_at / 1000, now,
                                versions=_versions(svc, dep, {r.variant: r.candidate_version}))
        result = analyse(samples, primary, r.variant, r.options)
        analysis = {**result.to_json(), "primary": primary, "candidate": r.variant,
                    "variants": {name: s.summary() for name, s in samples.items() if name in (primary, r.variant)}}
        step = decide(r, result.status)
        step = replace(step, message=f"{step.message}; {result.reason}")
        if step.action == "step":
            _set_canary(svc, r, step.weight)
        elif step.action == "rollback":
            _set_canary(svc, r, None)
        elif step.action == "promote":
            try:
                move = promotion.promote(svc, r.deployment, r.variant,
                                         reason=f"rollout {r.id}: analysis passed at {r.weight}%")
            except InvalidState as exc:
                step = Step("pause", r.weight, r.failed, PAUSED, f"promotion refused, paused: {exc.message}")
            else:
                _set_canary(svc, r, None)
                step = replace(step, message=f"promoted: {move}")
    with svc.store.write() as conn:
        conn.execute(t.update().where(t.c.id == r.id).values(state=step.state, weight=step.weight,
                                                              failed=step.failed, reason=step.message))
        return record(conn, replace(r, failed=step.failed), now_ms, step.action, step.message, step.weight,
                       window_start=r.updated_at, analysis=analysis)


def _versions(svc: Deployments, dep: Any, known: dict[str, str]) -> dict[str, str]:
    """The model version each live variant serves now (those the registry resolves)."""
    out = dict(known)
    if svc.registry is None:
        return out
    for v in dep.variants:
        if not v.shadow and v.name not in out:
            try:
                out[v.name] = str(svc.registry.get_version(v.model).version)
            except (NotFound, InvalidParameter):
                pass  # a reference that does not resolve: its rows are all counted
    return out


def analysis_now(svc: Deployments, artifacts: Any, deployment: str, *, window_s: float = 300.0,
                 now: float | None = None) -> dict[str, Any]:
    """The judge's verdict on ``deployment``'s canary now: the rollout's candidate since its
    last decision, or (without a rollout in progress) the first other live variant over the
    last ``window_s`` seconds. ``pass`` is true only for a pass (for Argo Rollouts' web metric
    and Flagger's webhooks)."""
    from stead.monitoring.variants import read_variants

    now = time.time() if now is None else float(now)
    dep = svc.get(deployment)
    r = active(svc.store, deployment)
    primary = dep.primary().name
    if r is not None:
        candidate, start_s, options = r.variant, r.updated_at / 1000, r.options
    else:
        others = [v.name for v in dep.variants if not v.shadow and v.name != primary]
        if not others:
            raise InvalidParameter(f"Deployment {deployment!r} has no canary to analyse: it has one live variant")
        candidate, start_s, options = others[0], now - window_s, dict(OPTIONS)
    pinned = {r.variant: r.candidate_version} if r is not None else {}
    samples = read_variants(artifacts, deployment, start_s, now, versions=_versions(svc, dep, pinned))
    result = analyse(samples, primary, candidate, options)
    return plain({"deployment": deployment, "primary": primary, "candidate": candidate,
                   "pass": result.status == "pass", "verdict": result.status, "score": result.score,
                   "reason": result.reason, "window": {"start": ms(start_s), "end": ms(now)},
                   "rollout": r.to_json() if r else None,
                   "variants": {n: s.summary() for n, s in samples.items() if n in (primary, candidate)},
                   "analysis": result.to_json()})

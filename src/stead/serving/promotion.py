"""Moving traffic to another version: promote a canary, roll back, switch blue-green colors.

Each move is gated on what the model servers report in the store (``stead.serving.health``):
the variant that is to take the traffic must be live, at the version the move names, on
every server that reports on the deployment; ``force=True`` (``--force``) skips the check.
Each returns a ``Move`` that says what moved (``churn@production: 1 -> 3``).

``Deployments.promote`` / ``rollback`` / ``switch`` call these with themselves as ``svc``;
this module reads the deployment records it is given and imports no deployment code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, InvalidState, NotFound

if TYPE_CHECKING:
    from stead.serving.deployments import Deployment, Deployments, Variant

__all__ = ["Move", "promote", "rollback", "switch", "require_healthy", "wait_applied"]


@dataclass(frozen=True)
class Move:
    """What a promotion, rollback or switch changed, and the deployment after it."""

    deployment: Deployment
    what: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.what}: {self.before} -> {self.after}"

    def to_dict(self) -> dict[str, Any]:
        return {**self.deployment.to_dict(), "moved": {"what": self.what, "from": self.before, "to": self.after}}


def require_healthy(svc: "Deployments", dep: Deployment, variant: Variant, version: str, verb: str) -> None:
    """Raise ``InvalidState`` unless ``variant`` serves ``version`` on every reporting server."""
    from stead.serving import health

    found = health.problems(health.current(svc.store, dep.name), dep.name, variant.name, variant.model, version)
    if found:
        raise InvalidState(f"Refusing to {verb} variant {variant.name} of deployment {dep.name} ({variant.model}, "
                           f"version {version}): it is not live on the model servers that serve it: "
                           f"{'; '.join(found)}. Fix it, or pass --force to {verb} anyway")


def _version_of(svc: "Deployments", ref: str) -> str | None:
    try:
        return str(svc.registry.get_version(ref).version)
    except NotFound:
        return None


def _registry(svc: "Deployments") -> Any:
    if svc.registry is None:
        raise InvalidState("Moving traffic between versions needs the model registry")
    return svc.registry


def _traffic(dep: Deployment) -> str:
    return ", ".join(f"{v.name}={v.weight}" for v in dep.variants if not v.shadow)


def _all_to(svc: "Deployments", dep: Deployment, winner: str, model: str | None = None) -> Deployment:
    """``winner`` gets 100 (and ``model``, when given); the other live variants 0; shadows stay."""
    return svc.save_variants(dep, tuple(
        replace(v, weight=100, model=model or v.model) if v.name == winner else
        (v if v.shadow else replace(v, weight=0)) for v in dep.variants))


def promote(svc: "Deployments", name: str, variant: str | None = None, *, reason: str = "",
            force: bool = False) -> Move:
    """Point the primary's alias at ``variant``'s version (default: the first other live
    variant) and send it all traffic; the other variants keep their models at weight 0."""
    registry = _registry(svc)
    dep = svc.get(name)
    if dep.blue_green:
        raise InvalidParameter(f"Deployment {name!r} is blue-green: move traffic to the idle color with "
                               f"stead deploy switch {name}")
    primary = dep.primary()
    others = [v for v in dep.variants if not v.shadow and v.name != primary.name]
    if variant is None and not others:
        raise InvalidState(f"Deployment {name!r} has no canary to promote")
    target = dep.variant(variant) if variant else others[0]
    if target.name == primary.name:
        raise InvalidParameter(f"{target.name!r} is already the primary variant of {name!r}")
    version = registry.get_version(target.model)
    if not force:
        require_healthy(svc, dep, target, str(version.version), "promote")
    model, _, alias = primary.model_ref()
    if alias is None:
        pinned = f"{version.name}/{version.version}"
        return Move(_all_to(svc, dep, primary.name, pinned), f"{name} {primary.name}", primary.model, pinned)
    if model != version.name:
        raise InvalidParameter(f"Cannot promote {target.model} over {primary.model}: different models")
    before = _version_of(svc, primary.model)
    registry.set_alias(model, alias, version.version, reason=reason or f"promoted {target.name} of deployment {name}")
    return Move(_all_to(svc, dep, primary.name), f"{model}@{alias}", before or "(unset)", str(version.version))


def rollback(svc: "Deployments", name: str, *, reason: str = "", force: bool = False) -> Move:
    """Undo the last move: a blue-green deployment switches back to the other color; otherwise
    the primary's alias moves back to its previous version and canaries get no traffic."""
    dep = svc.get(name)
    if dep.blue_green:
        return switch(svc, name, None, force=force, verb="roll back to")
    primary = dep.primary()
    model, _, alias = primary.model_ref()
    if alias is None or svc.registry is None:
        after = _all_to(svc, dep, primary.name)
        return Move(after, f"{name} traffic", _traffic(dep), _traffic(after))
    before = _version_of(svc, primary.model)
    moved = svc.registry.rollback(model, alias, reason=reason or f"rollback of deployment {name}")
    return Move(_all_to(svc, dep, primary.name), f"{model}@{alias}", before or "(unset)", str(moved.version))


def switch(svc: "Deployments", name: str, to: str | None = None, *, force: bool = False,
           verb: str = "switch to") -> Move:
    """Blue-green: send all traffic to the idle color (or ``to``) at once; the color that had
    it stays loaded and warm, so switching back is as quick."""
    registry = _registry(svc)
    dep = svc.get(name)
    if not dep.blue_green:
        raise InvalidParameter(f"Deployment {name!r} is not blue-green (it is {dep.strategy}): move its traffic with "
                               f"stead deploy set-traffic or stead deploy promote")
    colors = [v for v in dep.variants if not v.shadow]
    active = next(v for v in colors if v.weight > 0)
    target = dep.variant(to) if to else next(v for v in colors if v.name != active.name)
    if target.shadow:
        raise InvalidParameter(f"{target.name!r} is a shadow of {name!r}, not a color")
    if target.name == active.name:
        raise InvalidParameter(f"{target.name!r} already has all the traffic of {name!r}")
    version = str(registry.get_version(target.model).version)
    if not force:
        require_healthy(svc, dep, target, version, verb)
    before = _version_of(svc, active.model)
    after = _all_to(svc, dep, target.name)
    return Move(after, name, f"{active.name} (version {before or '?'})", f"{target.name} (version {version})")


def wait_applied(svc: "Deployments", move: Move, timeout_s: float) -> list[str]:
    """Wait until every model server that reports on the deployment applies ``move`` (the
    variant with all traffic serves the version moved to); the servers still behind after
    ``timeout_s`` seconds, each with what it reports."""
    from stead.serving import health

    dep = move.deployment
    winner = next(v for v in dep.variants if not v.shadow and v.weight == 100)
    version = _version_of(svc, winner.model)
    end = time.monotonic() + timeout_s
    while True:
        behind = []
        for r in health.current(svc.store, dep.name):
            if r.variant == winner.name and (r.weight != 100 or r.model_version != version):
                behind.append(f"{r.server}: {winner.name} has {r.weight:g}% at version {r.model_version}")
        if not behind or time.monotonic() >= end:
            return behind
        time.sleep(0.1)

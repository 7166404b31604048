"""``stead deploy``: deployments with canary, A/B, shadow and blue-green variants; progressive
rollouts and A/B reports (``stead.cli.deploy_rollout``)."""

from __future__ import annotations

import json
from typing import Any

import typer

from stead.cli import deploy_rollout
from stead.cli.common import JSON_OPTION, deployments_service
from stead.errors import InvalidParameter

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


def _show(dep: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(dep.to_dict(), indent=2))
        return
    from stead.cli.output import print_table

    title = f"deployment {dep.name}" + (f" ({dep.strategy})" if dep.strategy != "canary" else "") + \
        (f" (sticky by header {dep.sticky_header})" if dep.sticky_header else "")
    print_table(title, ["variant", "model", "weight", "shadow"],
                [[v.name, v.model, str(v.weight), "yes" if v.shadow else ""] for v in dep.variants])


def _moved(svc: Any, move: Any, as_json: bool, wait: float) -> None:
    """What a promotion, rollback or switch moved (``churn@production: 1 -> 3``), then the
    deployment; with ``wait``, once every reporting model server applies it (exit 1 if not)."""
    behind: list[str] = []
    if wait > 0:
        from stead.serving.promotion import wait_applied

        behind = wait_applied(svc, move, wait)
    if as_json:
        typer.echo(json.dumps({**move.to_dict(), "servers_behind": behind}, indent=2))
    else:
        typer.echo(str(move))
        _show(move.deployment, False)
    if behind:
        typer.echo(f"warning: not applied within {wait:g} s on {len(behind)} model server(s) (they apply it at "
                   f"their next poll): {'; '.join(behind)}", err=True)
        raise typer.Exit(1)


WAIT_OPTION = typer.Option(0.0, "--wait", min=0.0, help="Wait up to this many seconds until every model server "
                                                        "that reports on the deployment applies the move.")
FORCE_OPTION = typer.Option(False, "--force", help="Skip the check that the variant taking the traffic is live, at "
                                                   "that version, on the model servers that serve the deployment.")


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Deployment name (also the model name in /v2 URLs)."),
    model: str = typer.Option(..., "--model", help="The primary model (blue-green: the live color): NAME@ALIAS or "
                                                   "NAME/VERSION."),
    canary: str = typer.Option(None, "--canary", help="A canary model that gets --weight percent of traffic."),
    weight: int = typer.Option(10, "--weight", min=0, max=100, help="Percent of traffic for the canary."),
    shadow: list[str] = typer.Option(None, "--shadow", help="A shadow model: gets a copy of traffic, never answers."),
    sticky_header: str = typer.Option(None, "--sticky-header",
                                      help="Route by a hash of this request header (A/B stickiness)."),
    strategy: str = typer.Option("canary", "--strategy", help="canary (weights, promote) or blue-green (two colors, "
                                                             "all traffic on one, stead deploy switch)."),
    idle: str = typer.Option(None, "--idle", help="blue-green: the model of the idle color, green (default: --model)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a deployment: a primary model, optionally a canary and shadows; or two colors.

    Example: stead deploy create churn --model churn@production --canary churn@staging --weight 10

    Example: stead deploy create churn --strategy blue-green --model churn/1 --idle churn/2
    """
    from stead.serving.deployments import BLUE_GREEN, Variant

    if strategy == BLUE_GREEN:
        if canary:
            raise InvalidParameter("A blue-green deployment has no canary: give the idle color's model with --idle")
        variants = [Variant("blue", model, 100), Variant("green", idle or model, 0)]
    else:
        if idle:
            raise InvalidParameter("--idle is for --strategy blue-green; a canary deployment takes --canary")
        variants = [Variant("primary", model, 100 - (weight if canary else 0))]
        if canary:
            variants.append(Variant("canary", canary, weight))
    for i, ref in enumerate(shadow or []):
        variants.append(Variant("shadow" if i == 0 else f"shadow{i + 1}", ref, 0, shadow=True))
    _show(deployments_service().create(name, variants, sticky_header=sticky_header, strategy=strategy), as_json)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List deployments and their traffic split.

    Example: stead deploy list --json
    """
    deps = deployments_service().list()
    if as_json:
        typer.echo(json.dumps([d.to_dict() for d in deps], indent=2))
        return
    from stead.cli.output import print_table

    print_table(None, ["deployment", "variants"],
                [[d.name, ", ".join(f"{v.name}={v.model}:{'shadow' if v.shadow else v.weight}" for v in d.variants)]
                 for d in deps])


@app.command("show")
def show(name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Show one deployment's variants, models and weights.

    Example: stead deploy show churn
    """
    _show(deployments_service().get(name), as_json)


@app.command("set-traffic")
def set_traffic(
    name: str = typer.Argument(...),
    weights: list[str] = typer.Argument(..., help="VARIANT=PERCENT pairs, adding up to 100."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change the traffic split; running servers follow within their poll interval.

    Example: stead deploy set-traffic churn primary=75 canary=25
    """
    parsed: dict[str, int] = {}
    for pair in weights:
        variant, sep, value = pair.partition("=")
        if not sep or not value.strip().isdigit():
            raise InvalidParameter(f"{pair!r} is not VARIANT=PERCENT (e.g. canary=25)")
        parsed[variant.strip()] = int(value)
    _show(deployments_service().set_traffic(name, parsed), as_json)


@app.command("set-model")
def set_model(
    name: str = typer.Argument(...),
    variant: str = typer.Argument(..., help="The variant (blue-green: the idle color)."),
    model: str = typer.Argument(..., help="NAME@ALIAS or NAME/VERSION."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Point a variant at another model; servers load and warm it beside the old one, then swap.

    Example: stead deploy set-model churn green churn/3
    """
    _show(deployments_service().set_model(name, variant, model), as_json)


@app.command("promote")
def promote(
    name: str = typer.Argument(...),
    variant: str = typer.Option(None, "--variant", help="Which variant to promote (default: the canary)."),
    reason: str = typer.Option("", "--reason", help="Recorded in the registry's alias audit log."),
    force: bool = FORCE_OPTION,
    wait: float = WAIT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Move the primary's alias to the canary's version and all traffic to the primary.

    Refused unless the canary is loaded and answering, at that version, on every model server
    that reports on the deployment (--force skips the check). Prints what moved.

    Example: stead deploy promote churn --reason "canary AUC +2%"
    """
    svc = deployments_service()
    _moved(svc, svc.promote(name, variant, reason=reason, force=force), as_json, wait)


@app.command("switch")
def switch(
    name: str = typer.Argument(...),
    to: str = typer.Option(None, "--to", help="The color to send all traffic to (default: the idle one)."),
    force: bool = FORCE_OPTION,
    wait: float = WAIT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Blue-green: send all traffic to the idle color; the other stays loaded, so switching back is instant.

    Refused unless that color is live on every model server that reports (--force skips the
    check). Switch back with stead deploy rollback NAME (or switch again).

    Example: stead deploy switch churn --wait 30
    """
    svc = deployments_service()
    _moved(svc, svc.switch(name, to, force=force), as_json, wait)


@app.command("rollback")
def rollback(
    name: str = typer.Argument(...),
    reason: str = typer.Option("", "--reason", help="Recorded in the registry's alias audit log."),
    force: bool = FORCE_OPTION,
    wait: float = WAIT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Move the primary's alias back to its previous version and take traffic off canaries;
    a blue-green deployment switches back to the other color.

    Example: stead deploy rollback churn --reason "latency regression"
    """
    svc = deployments_service()
    _moved(svc, svc.rollback(name, reason=reason, force=force), as_json, wait)


@app.command("status")
def status(name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """What each model server serving the deployment reports: state, version, traffic, errors.

    Example: stead deploy status churn
    """
    from stead.serving import health

    svc = deployments_service()
    svc.get(name)
    reports = health.current(svc.store, name)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in reports], indent=2))
        return
    from stead.cli.output import print_table

    if not reports:
        typer.echo(f"no model server reports on deployment {name}")
        return
    print_table(f"deployment {name}: model servers", ["server", "variant", "state", "version", "traffic", "error"],
                [[r.server, r.variant, r.state, r.model_version or "", f"{r.weight:g}", r.error or ""]
                 for r in reports])


@app.command("delete")
def delete(name: str = typer.Argument(...)) -> None:
    """Delete a deployment (the models and aliases stay).

    Example: stead deploy delete churn
    """
    deployments_service().delete(name)
    typer.echo(f"deleted deployment {name}")


app.command("rollout")(deploy_rollout.rollout)
app.command("history")(deploy_rollout.history)
app.command("ab-report")(deploy_rollout.ab_report)

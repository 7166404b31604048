"""``stead models``: registered models, versions, aliases, rollback, download and model cards."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from stead.cli.common import JSON_OPTION, settings, tracking_client
from stead.cli.output import console, fmt_time, print_json, print_table, success

if TYPE_CHECKING:
    from stead.registry.client import RegistryClient

app = typer.Typer(no_args_is_help=True)
alias_app = typer.Typer(no_args_is_help=True, help="Set, delete and audit aliases (movable pointers to versions).")
app.add_typer(alias_app, name="alias")


@lru_cache(maxsize=1)
def registry() -> "RegistryClient":
    from stead.registry.client import RegistryClient

    return RegistryClient(settings(), tracking=tracking_client())


def _split_alias(ref: str) -> tuple[str, str]:
    from stead.errors import InvalidParameter

    name, _, alias = ref.removeprefix("models:/").rpartition("@")
    if not name or not alias:
        raise InvalidParameter(f"{ref!r} names no alias: write NAME@ALIAS, e.g. churn@production")
    return name, alias


def _version_json(mv: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(mv)


def _versions_table(title: str, versions: list[Any]) -> None:
    print_table(title, ["version", "aliases", "stage", "created", "run", "metrics", "description"], [
        (v.version, ", ".join(v.aliases), v.current_stage, fmt_time(v.creation_timestamp), (v.run_id or "")[:12],
         ", ".join(f"{k}={m:.4g}" for k, m in sorted(v.metrics.items())[:3]), v.description[:50])
        for v in versions
    ])


@app.command("list")
def list_models(
    filter_string: str = typer.Option(None, "--filter", "-f", help="e.g. \"name LIKE 'churn%'\" or \"tags.team = 'ml'\""),
    max_results: int = typer.Option(100, "--max", help="At most this many models."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List registered models with their aliases and newest version.

    Example: stead models list -f "tags.team = 'ml'"
    """
    from dataclasses import asdict

    models = registry().search_registered_models(filter_string, max_results).items
    if as_json:
        print_json([asdict(m) for m in models])
        return
    print_table("Registered models", ["name", "aliases", "latest", "updated", "description"], [
        (m.name, ", ".join(f"{a}→{v}" for a, v in m.aliases.items()),
         max((v.version for v in m.latest_versions), default=""), fmt_time(m.last_updated_timestamp),
         m.description[:60])
        for m in models
    ])


@app.command("show")
def show(name: str = typer.Argument(..., help="Registered model name."), as_json: bool = JSON_OPTION) -> None:
    """Show a registered model: description, tags, aliases and versions.

    Example: stead models show churn
    """
    from dataclasses import asdict

    reg = registry()
    model = reg.get_registered_model(name)
    versions = reg.list_versions(model.name)
    if as_json:
        print_json({**asdict(model), "versions": [_version_json(v) for v in versions]})
        return
    out = console()
    out.print(f"[bold]{model.name}[/bold]  {model.description}", highlight=False)
    if model.tags:
        out.print("tags: " + ", ".join(f"{k}={v}" for k, v in model.tags.items()), highlight=False)
    print_table("Aliases", ["alias", "version"], sorted(model.aliases.items()))
    _versions_table("Versions", versions)


@app.command("versions")
def versions(name: str = typer.Argument(..., help="Registered model name."), as_json: bool = JSON_OPTION) -> None:
    """List the versions of a model, newest first.

    Example: stead models versions churn --json
    """
    items = registry().list_versions(name)
    if as_json:
        print_json([_version_json(v) for v in items])
        return
    _versions_table(f"Versions of {name!r}", items)


@alias_app.command("set")
def alias_set(
    ref: str = typer.Argument(..., help="NAME@ALIAS, e.g. churn@production"),
    version: str = typer.Argument(..., help="The version the alias should point to."),
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the audit log)."),
) -> None:
    """Point an alias at a version; the move is recorded in the audit log.

    Example: stead models alias set churn@production 3 --reason "beats v2 on AUC"
    """
    name, alias = _split_alias(ref)
    registry().set_alias(name, alias, version, reason=reason)
    success(f"{name}@{alias} → version {version}")


@alias_app.command("delete")
def alias_delete(
    ref: str = typer.Argument(..., help="NAME@ALIAS"),
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the audit log)."),
) -> None:
    """Delete an alias; the deletion is recorded in the audit log.

    Example: stead models alias delete churn@canary --reason "canary finished"
    """
    name, alias = _split_alias(ref)
    registry().delete_alias(name, alias, reason=reason)
    success(f"deleted {name}@{alias}")


@alias_app.command("history")
def alias_history(
    ref: str = typer.Argument(..., help="NAME@ALIAS, or NAME for every alias of the model."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the audit log of alias moves: who, when, from which version to which, why.

    Example: stead models alias history churn@production
    """
    from dataclasses import asdict

    name, alias = _split_alias(ref) if "@" in ref else (ref, None)
    events = registry().alias_history(name, alias)
    if as_json:
        print_json([asdict(e) for e in events])
        return
    print_table(f"Alias history of {ref!r}", ["when", "alias", "action", "from", "to", "user", "reason"], [
        (fmt_time(e.timestamp), e.alias, e.action, e.from_version, e.to_version, e.user_id, e.reason)
        for e in events
    ])


@app.command("rollback")
def rollback(
    ref: str = typer.Argument(..., help="NAME@ALIAS, e.g. churn@production"),
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the audit log)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move an alias back to the version it pointed to before its last move.

    Example: stead models rollback churn@production --reason "v4 raised error rate"
    """
    name, alias = _split_alias(ref)
    mv = registry().rollback(name, alias, reason=reason)
    if as_json:
        print_json(_version_json(mv))
        return
    success(f"{name}@{alias} rolled back to version {mv.version}")


@app.command("delete")
def delete(
    ref: str = typer.Argument(..., help="NAME (the whole model) or NAME/VERSION"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a model version, or a registered model with all its versions.

    Example: stead models delete churn/2 --yes
    """
    name, _, version = ref.removeprefix("models:/").partition("/")
    what = f"version {version} of {name!r}" if version else f"registered model {name!r} and all its versions"
    if not yes and not typer.confirm(f"Delete {what}?"):
        raise typer.Abort()
    if version:
        registry().delete_model_version(name, version)
    else:
        registry().delete_registered_model(name)
    success(f"deleted {what}")


@app.command("download")
def download(
    uri: str = typer.Argument(..., help="models:/NAME/VERSION, models:/NAME@ALIAS or runs:/RUN_ID/PATH"),
    to: Path = typer.Option(..., "--to", help="Folder to copy the model directory into."),
) -> None:
    """Download a model directory.

    Example: stead models download models:/churn@production --to ./churn-model
    """
    from stead.registry.download import download_model

    target = download_model(uri, to, tracking_client())
    success(f"downloaded {uri} to {target}")


@app.command("card")
def card(
    ref: str = typer.Argument(..., help="NAME@ALIAS or NAME/VERSION"),
    out: Path = typer.Option(None, "--out", "-o", help="Write the card to this file instead of printing it."),
) -> None:
    """Write a Markdown model card: purpose, training data, params, metrics, signature, owner, commit, limitations.

    Example: stead models card churn@production --out card.md
    """
    from stead.errors import NotFound
    from stead.registry.card import render_card

    reg = registry()
    mv = reg.get_version(ref)
    model = reg.get_registered_model(mv.name)
    run = None
    if mv.run_id:
        try:
            run = reg.tracking.get_run(mv.run_id)
        except NotFound:
            run = None
    text = render_card(model, mv, run)
    if out is None:
        import sys

        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    success(f"wrote the model card of {mv.name} version {mv.version} to {out}")

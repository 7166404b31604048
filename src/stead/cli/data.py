"""``stead data``: version, inspect, move and validate data sets."""

from __future__ import annotations

from typing import Any

import typer

from stead.cli.common import JSON_OPTION, settings
from stead.cli.data_fast import ADD, PULL, PUSH, STATUS, add_command, print_status, size, transfer_command
from stead.cli.data_fast import progress as _progress
from stead.cli.output import console, fmt_time, print_json, print_table, success

app = typer.Typer(no_args_is_help=True)


@app.command("add")
@ADD.typer  # the options: stead.cli.data_fast, where the typer-free `stead data add` reads them too
def add(path: str, name: str | None, message: str, no_profile: bool, quiet: bool, as_json: bool) -> None:
    """Version a file or folder (a new version only if something changed); writes PATH.stead.

    Example: stead data add data/customers --name customers
    """
    add_command(settings(), path=path, name=name, message=message, no_profile=no_profile, quiet=quiet,
                as_json=as_json)


@app.command("status")
@STATUS.typer
def status(paths: list[str] | None, as_json: bool) -> None:
    """Show what changed in versioned data since its pointer's version.

    Example: stead data status data/customers
    """
    import stead.data

    print_status(stead.data.status(paths or (), settings=settings()), as_json)


@app.command("list")
def list_datasets(as_json: bool = JSON_OPTION) -> None:
    """List data sets and their latest versions.

    Example: stead data list --json
    """
    import stead.data

    items = stead.data.list_datasets(settings=settings())
    if as_json:
        print_json([d.__dict__ for d in items])
        return
    print_table("Data sets", ["name", "latest", "updated"], [(d.name, d.latest_version, fmt_time(d.last_update_time)) for d in items])


@app.command("versions")
def versions(name: str = typer.Argument(..., help="Data set name."), as_json: bool = JSON_OPTION) -> None:
    """List the versions of a data set.

    Example: stead data versions customers
    """
    import stead.data

    items = stead.data.list_versions(name, settings=settings())
    if as_json:
        print_json([v.summary() for v in items])
        return
    print_table(
        f"Versions of {name}",
        ["version", "files", "size", "user", "run", "created", "message"],
        [(v.version, v.num_files, size(v.num_bytes), v.user_id, v.run_id or "", fmt_time(v.creation_time), v.message) for v in items],
    )


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="name@version (or name for the latest)."),
    files: bool = typer.Option(False, "--files", help="List the files too."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a version: summary, profile of its tabular files, and optionally its files.

    Example: stead data show customers@4 --files
    """
    import stead.data

    s = settings()
    v = stead.data.get_version(ref, settings=s)
    manifest = None
    if files:
        from stead.data import service
        from stead.store import open_store

        store = open_store(s.resolved_store_url)
        try:
            _v, manifest = service.get_manifest(store, v.name, v.version)
        finally:
            store.dispose()
    if as_json:
        doc: dict[str, Any] = {**v.summary(), "profile": v.profile}
        if manifest is not None:
            doc["files_list"] = [{"path": p, "hash": h, "size": z} for p, (h, z) in manifest.files.items()]
        print_json(doc)
        return
    out = console()
    out.print(f"[bold]{v.uri}[/bold]  {v.num_files} files, {size(v.num_bytes)}, from {v.path} by {v.user_id or '?'} "
              f"at {fmt_time(v.creation_time)}" + (f", run {v.run_id}" if v.run_id else ""))
    if v.message:
        out.print(v.message)
    for file, prof in (v.profile or {}).items():
        if "columns" not in prof:
            continue
        print_table(
            f"{file}: {prof['rows']} rows",
            ["column", "type", "nulls", "min", "max", "mean", "std", "top"],
            [
                (c, p["type"], f"{p['null_fraction']:.1%}", p.get("min"), p.get("max"), p.get("mean"), p.get("std"),
                 ", ".join(f"{k} ({n})" for k, n in (p.get("top") or [])[:3]))
                for c, p in prof["columns"].items()
            ],
        )
    if manifest is not None:
        print_table("Files", ["path", "size", "hash"], [(p, size(z), h[:16]) for p, (h, z) in manifest.files.items()])


@app.command("diff")
def diff(
    a: str = typer.Argument(..., help="Older version, name@N."),
    b: str = typer.Argument(..., help="Newer version, name@M."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show files added, modified and deleted, schema changes and distribution shifts.

    Example: stead data diff customers@3 customers@4
    """
    import stead.data

    d = stead.data.diff(a, b, settings=settings())
    if as_json:
        print_json(d.to_json())
        return
    out = console()
    f = d.files
    out.print(f"[bold]{d.a} -> {d.b}[/bold]: {len(f.added)} added, {len(f.modified)} modified, {len(f.deleted)} deleted; "
              f"{size(d.bytes_before)} -> {size(d.bytes_after)}")
    for label, items in (("added", f.added), ("modified", f.modified), ("deleted", f.deleted)):
        for p in items[:20]:
            out.print(f"  {label}: {p}", highlight=False)
    if d.schema:
        print_table("Schema changes", ["file", "column", "change", "before", "after"],
                    [(c["file"], c["column"], c["change"], c["before"], c["after"]) for c in d.schema])
    if d.shifts:
        print_table("Distribution shifts", ["file", "column", "metric", "before", "after"],
                    [(c["file"], c["column"] or "", c["metric"], c["before"], c["after"]) for c in d.shifts])


@app.command("checkout")
def checkout(
    target: list[str] = typer.Argument(None, help="name@version, or pointer files/paths (default: every pointer)."),
    to: str = typer.Option(None, "--to", help="Put a name@version somewhere else than where it was added from "
                           "(a file version goes inside an existing folder, as cp does)."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite changes that are not saved in any version."),
    link: str = typer.Option("auto", "--link", help="auto (reflink, else copy), reflink, copy or hardlink."),
) -> None:
    """Put a version's files in place from the cache (after a git checkout: restore its data).
    A version the store does not know is looked up in the default remote's version index.

    Example: stead data checkout customers@3 --to /tmp/customers-v3
    """
    import stead.data

    s = settings()
    refs = [t for t in (target or []) if "@" in t]
    paths = [t for t in (target or []) if "@" not in t]
    if to and (len(refs) != 1 or paths):
        raise typer.BadParameter("--to takes exactly one name@version")
    with _progress("checkout") as bar:
        results = [stead.data.checkout(r, to, force=force, link=link, settings=s, on_progress=bar) for r in refs]
        if paths or not refs:
            results += stead.data.checkout_pointers(paths, force=force, link=link, settings=s, on_progress=bar)
    for r in results:
        success(f"{r.dest}: {len(r.written)} written, {r.unchanged} unchanged, {len(r.removed)} removed")


@app.command("push")
@PUSH.typer
def push(target: list[str] | None, remote: str | None, all_versions: bool, jobs: int | None, as_json: bool) -> None:
    """Send data to a remote: only objects it lacks, in parallel, resumable; then the
    versions' records, so a fresh clone can name every version.

    Example: stead data push --remote origin
    """
    if transfer_command("push", settings(), target=target, remote=remote, jobs=jobs, as_json=as_json,
                        all_versions=all_versions):
        raise typer.Exit(1)


@app.command("pull")
@PULL.typer
def pull(target: list[str] | None, remote: str | None, no_checkout: bool, force: bool, jobs: int | None,
         as_json: bool) -> None:
    """Fetch data from a remote (only what the cache lacks, hash-verified) and check it out;
    versions the store lacks are learnt from the remote's version index.

    Example: stead data pull
    """
    if transfer_command("pull", settings(), target=target, remote=remote, jobs=jobs, as_json=as_json,
                        no_checkout=no_checkout, force=force):
        raise typer.Exit(1)


@app.command("gc")
def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be removed."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove cache objects that no recorded version and no pointer file uses.

    Example: stead data gc --dry-run
    """
    import stead.data

    r = stead.data.gc(dry_run=dry_run, settings=settings())
    if as_json:
        print_json(r.to_json())
    else:
        verb = "Would remove" if dry_run else "Removed"
        success(f"{verb} {r.removed} object(s), {size(r.removed_bytes)}; kept {r.kept}")


@app.command("validate")
def validate(
    ref: str = typer.Argument(..., help="name@version."),
    expect: str = typer.Option(..., "--expect", "-e", help="Expectations YAML file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a version's CSV/Parquet files against expectations; exit 1 if any fails.

    Example: stead data validate customers@4 --expect expectations.yaml
    """
    import stead.data

    report = stead.data.validate(ref, expect, settings=settings())
    if as_json:
        print_json(report.to_json())
    else:
        print_table(
            f"Validation of {report.target}",
            ["", "file", "column", "check", "detail"],
            [("[green]✓[/green]" if c.ok else "[red]✗[/red]", c.file, c.column or "", c.check, c.detail) for c in report.checks],
        )
        console().print(("[green]passed[/green]: " if report.ok else "[red]failed[/red]: ") + report.summary())
    if not report.ok:
        raise typer.Exit(1)

"""The typer-free halves of ``stead data add|push|pull|status`` and what they print.

``stead data status`` runs as often as ``git status`` and must answer in well under 0.3 s
for tens of thousands of files, and ``stead data add`` of a folder that barely changed
does about 0.1 s of work; typer, click, rich and pydantic alone take longer to import. The
command lines are declared here once (``ADD``, ``PUSH``, ``PULL``, ``STATUS``): ``run_*``
read the plain forms from them (rich is imported only if a progress bar is drawn), and
``stead.cli.data`` builds its typer commands, for ``--help`` and every other line, from the
same declarations.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from stead.cli.plain import JSON, Arg, Line, Opt, parse_plain
from stead.config import color_wanted

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.data.status import DataStatus

__all__ = ["ADD", "PUSH", "PULL", "STATUS", "run_add", "run_transfer", "run_status", "add_command",
           "transfer_command", "print_status", "progress", "report_transfer", "size"]

_COLORS = {"green": "32", "yellow": "33", "red": "31"}
_BAR_AFTER = 0.5  # seconds of work before a progress bar is worth importing rich

_REMOTE = Opt("remote", ("--remote", "-r"), str, None, "Remote name (default: the default remote).")
_JOBS = Opt("jobs", ("--jobs", "-j"), int, None, "Parallel transfers.")
_FORCE = Opt("force", ("--force", "-f"), bool, False, "Overwrite changes that are not saved in any version.")
_TARGETS = Arg("target", "Pointer files/paths or name@version (default: every pointer).", many=True)

ADD = Line((
    Opt("name", ("--name", "-n"), str, None, "Data set name (default: the file or folder name)."),
    Opt("message", ("--message", "-m"), str, "", "What this version is."),
    Opt("no_profile", ("--no-profile",), bool, False, "Skip profiling CSV/Parquet files."),
    Opt("quiet", ("--quiet", "-q"), bool, False, "No progress bar."),
    JSON,
), Arg("path", "A file or folder inside the project.", required=True))
STATUS = Line((JSON,), Arg("paths", "Versioned paths or pointer files (default: all).", many=True))
PUSH = Line((_REMOTE, Opt("all_versions", ("--all-versions",), bool, False, "Every version recorded in the store."),
             _JOBS, JSON), _TARGETS)
PULL = Line((_REMOTE, Opt("no_checkout", ("--no-checkout",), bool, False, "Only fill the cache."), _FORCE, _JOBS,
             JSON), _TARGETS)


def run_status(argv: Sequence[str]) -> int | None:
    """``stead data status [PATH...] [--json]``; None when typer must handle the line."""
    parsed = parse_plain(argv, STATUS)
    if parsed is None:
        return None
    o = {**STATUS.defaults(), **parsed}
    import stead.data
    from stead.config import load_settings

    print_status(stead.data.status(o["paths"], settings=load_settings()), as_json=o["as_json"])
    return 0


def run_add(argv: Sequence[str]) -> int | None:
    """``stead data add PATH [--name N] [--message M] [--no-profile] [-q] [--json]``."""
    parsed = parse_plain(argv, ADD)
    if parsed is None:
        return None
    from stead.config import load_settings

    return add_command(load_settings(), **{**ADD.defaults(), **parsed})


def add_command(settings: "Settings", *, path: str, name: str | None, message: str, no_profile: bool,
                quiet: bool, as_json: bool) -> int:
    """What ``stead data add`` does and prints, on the plain and the typer command line alike."""
    import stead.data

    with progress("hashing", bool(quiet or as_json)) as bar:
        r = stead.data.add(path, name, message=message, profile=not no_profile, settings=settings, on_progress=bar)
    if as_json:
        from stead.cli.output import print_json

        print_json({**r.version.summary(), "created": r.created, "pointer": str(r.pointer)})
    elif r.created:
        _success(f"{r.version.uri}: {r.version.num_files} files, {size(r.version.num_bytes)}; wrote {r.pointer.name}")
    else:
        _success(f"Unchanged since {r.version.uri}")
    return 0


def run_transfer(verb: str, argv: Sequence[str]) -> int | None:
    """``stead data push|pull [TARGET...] [-r REMOTE] [-j N] [--json] ...``."""
    line = PUSH if verb == "push" else PULL
    parsed = parse_plain(argv, line)
    if parsed is None:
        return None
    from stead.config import load_settings

    return transfer_command(verb, load_settings(), **{**line.defaults(), **parsed})


def transfer_command(verb: str, settings: "Settings", *, target: Sequence[str] | None, remote: str | None,
                     jobs: int | None, as_json: bool, **options: Any) -> int:
    """What ``stead data push|pull`` do and print (``options``: the verb's own, as ``PUSH``
    and ``PULL`` declare them); the exit status, 1 when an object failed."""
    import stead.data

    common: dict[str, Any] = {"remote": remote, "jobs": jobs, "settings": settings}
    with progress(verb, bool(as_json)) as bar:
        if verb == "push":
            r = stead.data.push(target or (), all_versions=bool(options["all_versions"]), progress=bar, **common)
        else:
            r = stead.data.pull(target or (), checkout=not options["no_checkout"], force=bool(options["force"]),
                                progress=bar, **common)
    report_transfer(r, "Pushed" if verb == "push" else "Pulled", bool(as_json))
    return 1 if r.failed else 0


def report_transfer(result: Any, verb: str, as_json: bool) -> None:
    """What push and pull print (a summary line and each failure, or ``--json``)."""
    if as_json:
        from stead.cli.output import print_json

        print_json(result.to_json())
        return
    lines = [f"{verb} {result.transferred} object(s), {size(result.transferred_bytes)}; "
             f"{result.already_there} already there ({result.remote})"]
    lines += [f"{_paint('failed', 'red')} {path}: {reason}" for path, reason in result.failed]
    sys.stdout.write("\n".join(lines) + "\n")


def size(n: float) -> str:
    """``1.5 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _success(message: str) -> None:
    sys.stdout.write(f"{_paint('✓', 'green')} {message}\n")


class _Bar:
    """A progress bar of files and bytes: the data layer's ``Progress`` (push, pull) and
    ``on_progress(files, bytes)`` callback (add, checkout). rich is imported and the bar
    drawn only once the work has lasted ``_BAR_AFTER`` seconds, and only on a terminal, so
    short commands stay as fast as they can be."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.files = self.nbytes = 0
        self.total_files = self.total_bytes = 0
        self.live: Any = None
        self.task: Any = None
        self.enabled = sys.stdout.isatty()

    def start(self, files: int, nbytes: int) -> None:
        self.total_files, self.total_bytes = files, nbytes

    def advance(self, files: int, nbytes: int) -> None:
        self.files += files
        self.nbytes += nbytes
        if self.live is None:
            if not self.enabled or time.monotonic() - self.started < _BAR_AFTER:
                return
            self._draw()
        self.live.update(self.task, completed=self.nbytes, files=f"{self.files}/{self.total_files or '?'}")

    __call__ = advance

    def _draw(self) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

        from stead.cli.output import console

        self.live = Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[files]} files"), DownloadColumn(),
            TransferSpeedColumn(), TimeRemainingColumn(), console=console(), transient=True,
        )
        self.live.start()
        self.task = self.live.add_task(self.label, total=self.total_bytes or None, files="")

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


class _Quiet:
    def start(self, files: int, nbytes: int) -> None:
        pass

    def advance(self, files: int, nbytes: int) -> None:
        pass

    __call__ = advance


@contextmanager
def progress(label: str, quiet: bool = False) -> Iterator[Any]:
    """A progress bar (``_Bar``) for the duration of the block; nothing when ``quiet``."""
    if quiet:
        yield _Quiet()
        return
    bar = _Bar(label)
    try:
        yield bar
    finally:
        bar.close()


def _paint(text: str, color: str) -> str:
    if color_wanted(sys.stdout.isatty()):
        return f"\x1b[{_COLORS[color]}m{text}\x1b[0m"
    return text


def print_status(result: "Sequence[DataStatus]", as_json: bool = False) -> None:
    """The output of ``stead data status`` (plain text or ``--json``)."""
    if as_json:
        import json

        sys.stdout.write(json.dumps([s.to_json() for s in result], indent=2) + "\n")
        return
    lines: list[str] = []
    if not result:
        lines.append("No versioned data in this project (stead data add PATH)")
    for s in result:
        head = f"{s.pointer} ({s.name}@{s.version})"
        if s.clean:
            lines.append(f"{head}: up to date")
            continue
        if s.missing:
            lines.append(f"{head}: {_paint('not checked out', 'yellow')} (stead data checkout)")
            continue
        lines.append(f"{head}: {len(s.added)} added, {len(s.modified)} modified, {len(s.deleted)} deleted")
        for label, items, color in (("added", s.added, "green"), ("modified", s.modified, "yellow"),
                                    ("deleted", s.deleted, "red")):
            lines += [f"  {_paint(label + ':', color)} {p}" for p in items[:20]]
            if len(items) > 20:
                lines.append(f"  ... and {len(items) - 20} more {label}")
    sys.stdout.write("\n".join(lines) + "\n")

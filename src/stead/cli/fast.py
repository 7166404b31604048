"""Commands answered without building the typer app.

``stead data status`` runs as often as ``git status`` and must answer in well under
0.3 s for tens of thousands of files, and ``stead data add`` of a folder that barely
changed does about 0.1 s of work; typer, click, rich and pydantic alone take longer to
import. ``dispatch`` recognises the plain forms of such commands and runs them with only
what they need (rich is imported only if a progress bar is drawn); anything else
(``--help``, an unknown option) returns None and goes through the full CLI, where the same
commands are defined for help and documentation (``stead.cli.data``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stead.data.status import DataStatus

__all__ = ["dispatch", "parse_plain", "lazy_app", "print_status", "progress", "report_transfer", "size"]

_COLORS = {"green": "32", "yellow": "33", "red": "31"}
_BAR_AFTER = 0.5  # seconds of work before a progress bar is worth importing rich


def dispatch(argv: Sequence[str]) -> int | None:
    """Run ``argv`` here and return its exit code, or None when the full CLI must run it."""
    if list(argv[:1]) == ["server"]:  # start-up time counts: see stead.cli.server
        from stead.cli.server import fast_serve

        return fast_serve(argv[1:])
    if list(argv[:1]) == ["serve"]:  # a model server's start-up time counts too: see stead.cli.serve
        from stead.cli.serve import fast_serve as fast_serve_model

        return fast_serve_model(argv[1:])
    if list(argv[:2]) == ["data", "add"]:
        return _add(list(argv[2:]))
    if list(argv[:2]) in (["data", "push"], ["data", "pull"]):
        return _transfer(argv[1], list(argv[2:]))
    if list(argv[:2]) != ["data", "status"]:
        return None
    rest = list(argv[2:])
    if any(a.startswith("-") and a != "--json" for a in rest):
        return None
    import stead.data
    from stead.config import load_settings

    result = stead.data.status([a for a in rest if a != "--json"], settings=load_settings())
    print_status(result, as_json="--json" in rest)
    return 0


# option -> (key, type, lowest, highest): a value that does not convert or is out of
# range sends the line to typer, which explains; None: no bound
Values = Mapping[str, tuple[str, type, "float | None", "float | None"]]
# flag -> (key, value it sets)
Flags = Mapping[str, tuple[str, Any]]


def parse_plain(argv: Sequence[str], values: Values, flags: Flags) -> tuple[list[str], dict[str, Any]] | None:
    """Positional arguments and options of a plain command line (``--opt value``,
    ``--opt=value``, ``-o value``, flags); None for anything else (``--help``, an unknown
    option, a missing or bad value), which the typer command then explains."""
    args: list[str] = []
    opts: dict[str, Any] = {}
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg in flags:
            key, flag = flags[arg]
            opts[key] = flag
            continue
        if not arg.startswith("-") or arg == "-":
            args.append(arg)
            continue
        name, eq, text = arg.partition("=")
        if name not in values or (eq and not name.startswith("--")) or (not eq and not rest):
            return None
        if not eq:
            text = rest.pop(0)
        key, kind, low, high = values[name]
        try:
            value = kind(text)
        except ValueError:
            return None
        if kind is float and value != value:
            return None  # NaN passes every bound
        if kind is not str and ((low is not None and value < low) or (high is not None and value > high)):
            return None
        opts[key] = value
    return args, opts


def lazy_app(module: str, build: Callable[[], Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that builds the module's typer ``app`` on first use, so the
    module's fast path never imports typer."""

    def __getattr__(name: str) -> Any:
        if name == "app":
            command = build()
            setattr(sys.modules[module], "app", command)
            return command
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


_ADD_FLAGS: Flags = {"--no-profile": ("no_profile", True), "-q": ("quiet", True), "--quiet": ("quiet", True),
                     "--json": ("as_json", True)}
_ADD_VALUES: Values = {"-n": ("name", str, None, None), "--name": ("name", str, None, None),
                       "-m": ("message", str, None, None), "--message": ("message", str, None, None)}


def _add(rest: list[str]) -> int | None:
    """``stead data add PATH [--name N] [--message M] [--no-profile] [-q] [--json]``."""
    parsed = parse_plain(rest, _ADD_VALUES, _ADD_FLAGS)
    if parsed is None or len(parsed[0]) != 1:
        return None
    (path,), o = parsed
    import stead.data
    from stead.config import load_settings

    with progress("hashing", bool(o.get("quiet") or o.get("as_json"))) as bar:
        r = stead.data.add(path, o.get("name"), message=o.get("message", ""), profile=not o.get("no_profile"),
                           settings=load_settings(), on_progress=bar)
    if o.get("as_json"):
        from stead.cli.output import print_json

        print_json({**r.version.summary(), "created": r.created, "pointer": str(r.pointer)})
    elif r.created:
        _success(f"{r.version.uri}: {r.version.num_files} files, {size(r.version.num_bytes)}; wrote {r.pointer.name}")
    else:
        _success(f"Unchanged since {r.version.uri}")
    return 0


_TRANSFER_FLAGS: Flags = {"--json": ("as_json", True)}
_PUSH_FLAGS: Flags = {**_TRANSFER_FLAGS, "--all-versions": ("all_versions", True)}
_PULL_FLAGS: Flags = {**_TRANSFER_FLAGS, "--no-checkout": ("no_checkout", True), "--force": ("force", True),
                      "-f": ("force", True)}
_TRANSFER_VALUES: Values = {"-r": ("remote", str, None, None), "--remote": ("remote", str, None, None),
                            "-j": ("jobs", int, 1, None), "--jobs": ("jobs", int, 1, None)}


def _transfer(verb: str, rest: list[str]) -> int | None:
    """``stead data push|pull [TARGET...] [-r REMOTE] [-j N] [--json] ...``."""
    parsed = parse_plain(rest, _TRANSFER_VALUES, _PUSH_FLAGS if verb == "push" else _PULL_FLAGS)
    if parsed is None:
        return None
    targets, o = parsed
    import stead.data
    from stead.config import load_settings

    common: dict[str, Any] = {"remote": o.get("remote"), "jobs": o.get("jobs"),
                              "settings": load_settings()}
    with progress(verb, bool(o.get("as_json"))) as bar:
        if verb == "push":
            r = stead.data.push(targets, all_versions=bool(o.get("all_versions")), progress=bar, **common)
        else:
            r = stead.data.pull(targets, checkout=not o.get("no_checkout"), force=bool(o.get("force")), progress=bar,
                                **common)
    report_transfer(r, "Pushed" if verb == "push" else "Pulled", bool(o.get("as_json")))
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
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
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

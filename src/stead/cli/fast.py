"""Commands answered without building the typer app.

``stead data status`` runs as often as ``git status`` and must answer in well under
0.3 s for tens of thousands of files; typer, click, rich and pydantic alone take longer
to import. ``dispatch`` recognises the plain forms of such commands and runs them with
only what they need; anything else (``--help``, an unknown option) returns None and goes
through the full CLI, where the same command is defined for help and documentation.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stead.data.status import DataStatus

__all__ = ["dispatch", "print_status"]

_COLORS = {"green": "32", "yellow": "33", "red": "31"}


def dispatch(argv: Sequence[str]) -> int | None:
    """Run ``argv`` here and return its exit code, or None when the full CLI must run it."""
    if list(argv[:1]) == ["server"]:  # start-up time counts: see stead.cli.server
        from stead.cli.server import fast_serve

        return fast_serve(argv[1:])
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

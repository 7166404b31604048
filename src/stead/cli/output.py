"""How commands print: rich tables for people, ``--json`` for scripts, one line for errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

__all__ = ["console", "err_console", "print_table", "print_json", "fmt_time", "fmt_value", "success"]

_console = None
_err_console = None


def console():  # type: ignore[no-untyped-def]
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console()
    return _console


def err_console():  # type: ignore[no-untyped-def]
    global _err_console
    if _err_console is None:
        from rich.console import Console

        _err_console = Console(stderr=True)
    return _err_console


def fmt_time(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, header_style="bold", show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(fmt_value(c) for c in row))
    console().print(table)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, allow_nan=True) + "\n")


def success(message: str) -> None:
    console().print(f"[green]✓[/green] {message}")

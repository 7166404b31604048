"""``stead monitor``: reference statistics, drift, live performance and alert rules.

Each verb imports the monitoring package inside the command, keeping ``stead --help`` fast.
"""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    help="Reference statistics, drift, live performance and alert rules.",
    no_args_is_help=True,
)

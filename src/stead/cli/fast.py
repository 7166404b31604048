"""Commands answered without building the typer app.

Some commands must start faster than typer, click, rich and pydantic can be imported:
``stead data status`` runs as often as ``git status``, ``stead data add|push|pull`` of data
that barely changed do a tenth of a second of work, and a server's start-up time is part of
its contract. ``dispatch`` hands their command lines to the typer-free readers
(``stead.cli.data_fast``, ``stead.cli.server``, ``stead.cli.serve``), which read them from
the same declarations the typer commands are built from (``stead.cli.plain``); anything
they do not recognise (``--help``, an unknown option) returns None and goes through the
full CLI.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["dispatch"]


def dispatch(argv: Sequence[str]) -> int | None:
    """Run ``argv`` here and return its exit code, or None when the full CLI must run it."""
    head = list(argv[:2])
    if head[:1] == ["server"]:  # start-up time counts: see stead.cli.server
        from stead.cli.server import fast_serve

        return fast_serve(argv[1:])
    if head[:1] == ["serve"]:  # a model server's start-up time counts too: see stead.cli.serve
        from stead.cli.serve import fast_serve as fast_serve_model

        return fast_serve_model(argv[1:])
    if head[:1] != ["data"] or head[1:] not in (["add"], ["push"], ["pull"], ["status"]):
        return None
    from stead.cli.data_fast import run_add, run_status, run_transfer

    rest = argv[2:]
    if head[1] == "add":
        return run_add(rest)
    if head[1] == "status":
        return run_status(rest)
    return run_transfer(head[1], rest)

"""``parse_plain``: the one reader of the plain command lines that run without typer."""

from __future__ import annotations

import pytest

from stead.cli.fast import parse_plain

_VALUES = {"--port": ("port", int, 0, 65535), "-n": ("name", str, None, None), "--name": ("name", str, None, None),
           "--rate": ("rate", float, 0.0, 1.0)}
_FLAGS = {"--json": ("as_json", True), "--no-x": ("x", False)}


def test_values_flags_and_positionals() -> None:
    assert parse_plain(["a", "--port", "80", "--name=ds", "--json", "b", "--no-x", "--rate=0.5"], _VALUES, _FLAGS) == \
        (["a", "b"], {"port": 80, "name": "ds", "as_json": True, "x": False, "rate": 0.5})
    assert parse_plain(["-n", "--json"], _VALUES, _FLAGS) == ([], {"name": "--json"})  # a value may look like a flag
    assert parse_plain(["-"], _VALUES, _FLAGS) == (["-"], {})


@pytest.mark.parametrize("argv", [
    ["--help"], ["--bogus"], ["--port"], ["--port", "http"], ["--port=-1"], ["--port", "70000"], ["-n=ds"],
    ["--rate", "1.5"], ["--rate", "nan?"], ["--rate", "nan"],
])
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    assert parse_plain(argv, _VALUES, _FLAGS) is None


@pytest.mark.parametrize("module", ["stead.cli.server", "stead.cli.serve"])
def test_the_plain_reader_knows_every_option_of_the_typer_command(module: str) -> None:
    """A plain line with an option only typer knows would go to typer, whose start-up the
    plain reader exists to avoid; one only the plain reader knows would be missing from --help."""
    import importlib

    import typer.main

    mod = importlib.import_module(module)
    command = typer.main.get_command(mod.app)
    typer_options = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts) if opt.startswith("-")}
    plain = set(mod._VALUES) | set(getattr(mod, "_FLAGS", {"--auth": None}))
    assert "--log-format" in plain
    assert plain == typer_options - {"--help", "--install-completion", "--show-completion"}

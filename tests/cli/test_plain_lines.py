"""``stead.cli.plain``: one declaration of a command line, read without typer and by typer."""

from __future__ import annotations

import importlib
import inspect

import pytest

from stead.cli.plain import Arg, Line, Opt, parse_plain

_LINE = Line((
    Opt("port", ("--port",), int, 0, low=0, high=65535), Opt("name", ("--name", "-n")),
    Opt("rate", ("--rate",), float, 0.0, low=0.0, high=1.0), Opt("as_json", ("--json",), bool, False),
    Opt("x", ("--x",), bool, True, off=("--no-x",)),
), Arg("paths", "", many=True))


def test_values_flags_and_positionals() -> None:
    assert parse_plain(["a", "--port", "80", "--name=ds", "--json", "b", "--no-x", "--rate=0.5"], _LINE) == \
        {"paths": ["a", "b"], "port": 80, "name": "ds", "as_json": True, "x": False, "rate": 0.5}
    assert parse_plain(["-n", "--json"], _LINE) == {"name": "--json"}  # a value may look like a flag
    assert parse_plain(["-"], _LINE) == {"paths": ["-"]}


@pytest.mark.parametrize("argv", [
    ["--help"], ["--bogus"], ["--port"], ["--port", "http"], ["--port=-1"], ["--port", "70000"], ["-n=ds"],
    ["--rate", "1.5"], ["--rate", "nan?"], ["--rate", "nan"], ["--json=1"], ["--"],
])
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    assert parse_plain(argv, _LINE) is None


def test_positional_count_follows_the_argument() -> None:
    one = Line((), Arg("path", "", required=True))
    assert parse_plain([], one) is None and parse_plain(["a", "b"], one) is None
    assert parse_plain(["a"], one) == {"path": "a"}
    optional = Line((), Arg("model", ""))
    assert parse_plain([], optional) == {} and parse_plain(["a", "b"], optional) is None
    assert parse_plain(["a"], Line(())) is None  # a command without a positional argument


# (module, declaration, typer command name or None for a noun that is one command, the function it runs)
_COMMANDS = [
    ("stead.cli.server", "LINE", None, "serve"),
    ("stead.cli.serve", "LINE", None, "serve_model"),
    ("stead.cli.data", "ADD", "add", "add"),
    ("stead.cli.data", "PUSH", "push", "push"),
    ("stead.cli.data", "PULL", "pull", "pull"),
    ("stead.cli.data", "STATUS", "status", "status"),
]


def _declaration(module: str, name: str) -> Line:
    mod = importlib.import_module(module)
    return getattr(mod, name, None) or getattr(importlib.import_module("stead.cli.data_fast"), name)


@pytest.mark.parametrize(("module", "name", "command", "runs"), _COMMANDS)
def test_typer_and_the_plain_reader_take_the_same_options(module: str, name: str, command: str | None,
                                                          runs: str | None) -> None:
    """Both come from one declaration: a plain line with an option only typer knew would go
    to typer, whose start-up the plain reader exists to avoid; one only the plain reader
    knew would be missing from --help."""
    import typer.main

    line = _declaration(module, name)
    app = typer.main.get_command(importlib.import_module(module).app)
    cmd = app if command is None else app.commands[command]  # type: ignore[attr-defined]
    typer_only = {"--help", "--install-completion", "--show-completion"}  # typer's own, not the command's
    typer_options = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts) if opt.startswith("-")}
    assert typer_options - typer_only == line.spellings()
    typer_keys = {p.name for p in cmd.params if p.name not in ("help", "install_completion", "show_completion")}
    assert typer_keys == set(line.defaults())
    for o in line.options:  # every spelling of every option reads on the plain path
        for flag in (*o.flags, *o.off):
            argv = [flag] if o.kind is bool else [flag, str(o.default if o.default is not None else 1)]
            if line.argument is not None and line.argument.required:
                argv.append("x")
            assert parse_plain(argv, line) is not None, flag
    # the function behind the command takes every declared keyword (with the declared defaults, if any)
    target = getattr(importlib.import_module(module), runs)
    params = inspect.signature(getattr(target, "__wrapped__", target)).parameters
    assert set(params) == set(line.defaults())
    if command is None:  # the plain reader calls it with only the options given
        assert {k: params[k].default for k in params} == line.defaults()


@pytest.mark.parametrize("argv", [["server", "--help"], ["serve", "--bogus"], ["data", "add", "--help"],
                                  ["data", "push", "--bogus"], ["data", "status", "-x"], ["data", "list"]])
def test_help_and_unknown_lines_fall_back_to_typer(argv: list[str]) -> None:
    from stead.cli.fast import dispatch

    assert dispatch(argv) is None


def test_the_plain_path_imports_no_typer() -> None:
    import subprocess
    import sys

    code = ("import sys; import stead.cli.fast, stead.cli.server, stead.cli.serve, stead.cli.data_fast;"
            "print('typer' in sys.modules, 'click' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False"]

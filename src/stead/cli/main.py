"""The ``stead`` command: one typer sub-app per noun, each in its own module.

A noun's module is imported only when it exists, so concepts can arrive one at a time;
heavy libraries are imported inside commands, keeping ``stead --help`` fast. ``run`` builds
the app with only the noun a command line names (``stead data add`` imports the data CLI
alone), and answers ``stead data status`` without typer at all (``stead.cli.fast``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from stead import __version__
from stead.errors import SteadError, exit_code_for

if TYPE_CHECKING:
    import typer

__all__ = ["app", "build_app", "run"]

# noun -> (module, help). Each module defines ``app: typer.Typer``.
NOUNS: dict[str, tuple[str, str]] = {
    "experiments": ("stead.cli.experiments", "Create, list, rename, delete and restore experiments."),
    "runs": ("stead.cli.runs", "List, show, compare and delete runs."),
    "server": ("stead.cli.server", "Run the stead tracking server (MLflow-compatible REST API)."),
    "users": ("stead.cli.users", "Manage users of a stead server with authentication."),
    "tokens": ("stead.cli.tokens", "Create and revoke API tokens."),
    "models": ("stead.cli.models", "Registered models, versions, aliases and rollback."),
    "data": ("stead.cli.data", "Version, validate, push and pull data sets."),
    "remote": ("stead.cli.remote", "Configure data remotes (local folders, s3://)."),
    "pipeline": ("stead.cli.pipeline", "Run, resume and inspect pipelines."),
    "schedule": ("stead.cli.schedule", "Schedule pipelines with cron expressions."),
    "scheduler": ("stead.cli.scheduler", "Run the long-lived pipeline scheduler."),
    "serve": ("stead.cli.serve", "Serve a model over the Open Inference Protocol and MLflow scoring."),
    "deploy": ("stead.cli.deploy", "Deployments: canary, A/B and shadow traffic between model versions."),
    "monitor": ("stead.cli.monitor", "Monitors on a schedule, drift, labels, live performance, alerts and alert rules."),
}

_state: dict[str, bool] = {"debug": False}


def _version(value: bool) -> None:
    if value:
        import typer

        typer.echo(f"stead {__version__}")
        raise typer.Exit()


def build_app(nouns: Iterable[str] | None = None) -> "typer.Typer":
    """The ``stead`` app with the sub-apps of ``nouns`` (default: all of them)."""
    import typer

    app = typer.Typer(
        name="stead",
        help="stead: track experiments, register models, version data, run pipelines and serve models.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _main(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
        debug: bool = typer.Option(False, "--debug", help="Show full tracebacks of errors."),
    ) -> None:
        """stead: the whole machine-learning lifecycle on your own hardware."""
        _state["debug"] = debug

    for noun in NOUNS if nouns is None else nouns:
        module_name, help_text = NOUNS[noun]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        sub = getattr(module, "app")
        callback = getattr(sub.registered_callback, "callback", None)
        if callback is not None and callback.__doc__:
            # A noun that is one command (``stead serve``): its own docstring, examples included.
            app.add_typer(sub, name=noun)
        else:
            app.add_typer(sub, name=noun, help=help_text)
    return app


def __getattr__(name: str) -> Any:
    # ``app`` (every noun) is built on first use: ``run`` builds only the noun it needs.
    if name == "app":
        app = build_app()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _noun(argv: Sequence[str]) -> str | None:
    """The noun of a command line (``stead --debug data add x`` -> data), if it names one."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in NOUNS else None
    return None


def _fail(exc: SteadError, debug: bool) -> NoReturn:
    if debug:
        raise exc
    from rich.markup import escape

    from stead.cli.output import err_console

    err_console().print(f"[red]error[/red] \\[{exc.code}] {escape(exc.message)}", highlight=False, soft_wrap=True)
    sys.exit(exit_code_for(exc.code))


def run() -> None:
    """Entry point: SteadError becomes one red line and its exit code, not a traceback."""
    debug = "--debug" in sys.argv
    from stead.cli.fast import dispatch

    try:
        code = dispatch(sys.argv[1:])
    except SteadError as exc:
        _fail(exc, debug)
    except KeyboardInterrupt:
        sys.exit(130)
    if code is not None:
        sys.exit(code)
    import typer

    noun = _noun(sys.argv[1:])
    try:
        # In non-standalone mode click returns the code of a typer.Exit instead of raising it.
        result = build_app([noun] if noun else None)(standalone_mode=False)
        sys.exit(result if isinstance(result, int) else 0)
    except SteadError as exc:
        _fail(exc, debug)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # click usage errors and the like (typer >= 0.29 vendors click)
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise

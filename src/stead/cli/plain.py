"""One declaration of a command line, read two ways.

A few commands must start without typer (``stead server``, ``stead serve``, ``stead data
add|push|pull|status``: typer, click and pydantic alone take longer to import than the
command may take). Each declares its options once, as a ``Line`` of ``Opt`` (and at most one
``Arg``): ``parse_plain`` reads a plain command line from it without importing typer, and
``Line.typer`` turns the same declaration into the typer command's parameters for
``--help``, the docs and every line the plain reader declines. An option added to the
declaration is in both; there is no second list to forget.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Opt", "Arg", "Line", "JSON", "STORE_URL", "ARTIFACTS_URL", "ALLOWED_HOSTS", "parse_plain", "lazy_app"]


@dataclass(frozen=True)
class Opt:
    """An option: ``key`` is the keyword the command's function takes; ``flags`` its spellings
    (``--name``, ``-n``). A ``bool`` option is a flag that sets True, and False with one of
    ``off`` (``--native-sklearn/--import-sklearn``). ``low`` and ``high`` bound a number."""

    key: str
    flags: tuple[str, ...]
    kind: type = str
    default: Any = None
    help: str = ""
    low: float | None = None
    high: float | None = None
    off: tuple[str, ...] = ()

    def typer_option(self) -> Any:
        """This option as ``typer.Option(...)`` (imports typer)."""
        import typer

        decls = list(self.flags)
        if self.off:
            decls[0] = f"{self.flags[0]}/{'/'.join(self.off)}"
        return typer.Option(self.default, *decls, help=self.help, min=self.low, max=self.high)


JSON = Opt("as_json", ("--json",), bool, False, "Print JSON for scripts instead of a table.")
"""``--json``, which many commands take (``stead.cli.common.JSON_OPTION`` is its typer form)."""

# The options both servers (``stead server``, ``stead serve``) take alike.
STORE_URL = Opt("store_url", ("--store-url",), str, None, "Metadata store URL (default: from settings).")
ARTIFACTS_URL = Opt("artifacts_url", ("--artifacts-url",), str, None, "Artifact root (default: from settings).")
ALLOWED_HOSTS = Opt("allowed_hosts", ("--allowed-hosts",), str, None,
                    "Comma-separated Host headers to answer (names, addresses, *.domain, *); others get 400. "
                    "Default: localhost, 127.0.0.1, [::1] when bound to loopback, any host otherwise.")


@dataclass(frozen=True)
class Arg:
    """The positional argument: one value (``required`` or not), or any number (``many``)."""

    key: str
    help: str
    required: bool = False
    many: bool = False


@dataclass(frozen=True)
class Line:
    """A command's options and its positional argument (None: it takes none)."""

    options: tuple[Opt, ...]
    argument: Arg | None = None

    def spellings(self) -> set[str]:
        """Every option spelling the command accepts."""
        return {flag for o in self.options for flag in (*o.flags, *o.off)}

    def defaults(self) -> dict[str, Any]:
        """Each option's key and default (the argument's too)."""
        out = {o.key: o.default for o in self.options}
        if self.argument is not None:
            out[self.argument.key] = [] if self.argument.many else None
        return out

    def typer(self, body: Callable[..., Any], doc: str | None = None) -> Callable[..., Any]:
        """A typer callback that runs ``body(**values)``, its parameters from this declaration
        (typer reads ``__signature__``); ``doc`` (default: ``body``'s) is its help text."""
        import inspect

        import typer

        params = []
        if self.argument is not None:
            a = self.argument
            default = typer.Argument(... if a.required else None, help=a.help)
            params.append(inspect.Parameter(a.key, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=list[str] if a.many else str))
        for o in self.options:
            params.append(inspect.Parameter(o.key, inspect.Parameter.KEYWORD_ONLY, default=o.typer_option(),
                                            annotation=o.kind))

        def command(**values: Any) -> Any:
            return body(**values)

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {}  # the types are the signature's, not ``**values``'
        command.__name__ = command.__qualname__ = getattr(body, "__name__", "command")
        command.__doc__ = doc if doc is not None else body.__doc__
        command.__module__ = getattr(body, "__module__", __name__)
        command.__wrapped__ = body  # type: ignore[attr-defined]
        return command


def parse_plain(argv: Sequence[str], line: Line) -> dict[str, Any] | None:
    """The options given on a plain command line (``--opt value``, ``--opt=value``, ``-o
    value``, flags) and the positional argument, as keyword arguments; None for anything
    else (``--help``, an unknown option, a missing or bad value, one positional too many),
    which the typer command then explains. Options not given are left out."""
    values = {flag: o for o in line.options if o.kind is not bool for flag in o.flags}
    flags = {flag: (o.key, True) for o in line.options if o.kind is bool for flag in o.flags}
    flags.update({flag: (o.key, False) for o in line.options for flag in o.off})
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
        o = values[name]
        try:
            value = o.kind(text)
        except ValueError:
            return None
        if o.kind is float and value != value:
            return None  # NaN passes every bound
        if o.kind is not str and ((o.low is not None and value < o.low) or (o.high is not None and value > o.high)):
            return None
        opts[o.key] = value
    a = line.argument
    if a is None:
        return None if args else opts
    if a.many:
        return {**opts, a.key: args} if args else opts
    if len(args) > 1 or (a.required and not args):
        return None
    return {**opts, a.key: args[0]} if args else opts


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

"""Settings: where stead keeps things.

Read once from the environment and an optional ``stead.toml`` (in the working directory or
``$STEAD_HOME``), then passed down. Nothing else in stead reads the environment: a child
process gets its settings from ``child_environment``, a worker process from
``adopt_settings``, and the two variables of other tools' conventions stead honours
(``KUBECONFIG``, ``NO_COLOR``) are read here too.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from stead.errors import InvalidParameter

__all__ = [
    "Settings",
    "load_settings",
    "prepare_home",
    "adopt_settings",
    "settings_environment",
    "child_environment",
    "kubeconfig_path",
    "color_wanted",
]

_ENV_KEYS = {
    "STEAD_HOME": "home",
    "STEAD_STORE_URL": "store_url",
    "STEAD_ARTIFACTS_URL": "artifacts_url",
    "STEAD_TRACKING_URI": "tracking_uri",
    "STEAD_TRACKING_TOKEN": "tracking_token",
    "STEAD_TRACKING_USERNAME": "tracking_username",
    "STEAD_TRACKING_PASSWORD": "tracking_password",
    "STEAD_TRUST_PICKLE": "trust_pickle",
    "STEAD_ALLOWED_HOSTS": "allowed_hosts",
}
_BOOLEANS = {"trust_pickle"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_AWS_KEYS = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)


@dataclass(frozen=True)
class Settings:
    """Where the metadata store, artifacts and (optionally) a tracking server live."""

    home: Path = field(default_factory=lambda: Path.cwd() / ".stead")
    store_url: str | None = None
    artifacts_url: str | None = None
    tracking_uri: str | None = None
    tracking_token: str | None = None
    tracking_username: str | None = None
    tracking_password: str | None = None
    # Load models whose files are pickles (loading one runs code from it): see docs/models.md.
    trust_pickle: bool = False
    # Host headers stead server / stead serve answer to (comma-separated; see stead.hosts).
    allowed_hosts: str | None = None
    aws: Mapping[str, str] = field(default_factory=dict)

    @property
    def resolved_store_url(self) -> str:
        """The metadata store URL; the embedded default is a SQLite file in the home."""
        return self.store_url or f"sqlite:///{self.home / 'stead.db'}"

    @property
    def resolved_artifacts_url(self) -> str:
        return self.artifacts_url or str(self.home / "artifacts")

    @property
    def is_remote(self) -> bool:
        """True when tracking goes through a stead server rather than the embedded store."""
        return bool(self.tracking_uri) and str(self.tracking_uri).startswith(("http://", "https://"))

    def with_overrides(self, **changes: Any) -> "Settings":
        changes = {k: v for k, v in changes.items() if v is not None}
        if "home" in changes:
            changes["home"] = Path(changes["home"]).expanduser().resolve()
        return replace(self, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameter(f"{path} is not valid TOML: {exc}. Fix the file or remove it.") from exc
    section = data.get("stead", data)
    unknown = set(section) - set(_ENV_KEYS.values())
    if unknown:
        raise InvalidParameter(
            f"{path} has unknown settings {sorted(unknown)}; known: {sorted(_ENV_KEYS.values())}"
        )
    return dict(section)


def _boolean(name: str, value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise InvalidParameter(f"{where} sets {name} to {value!r}; use true or false (1 or 0)")


_adopted: Settings | None = None


def adopt_settings(settings: Settings | None) -> None:
    """Make ``settings`` what ``load_settings()`` returns in this process (None: read the
    environment again). A worker process (a pipeline step in a process pool or on Ray, a
    server worker) is handed its parent's settings this way, not through the environment."""
    global _adopted
    _adopted = settings


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Build the settings from ``environ`` (default: the process environment) and stead.toml.

    Precedence: environment variables over ``stead.toml`` over the embedded defaults. In a
    process that adopted settings (``adopt_settings``), those, unless ``environ`` or ``cwd``
    is given.
    """
    if _adopted is not None and environ is None and cwd is None:
        return _adopted
    env = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    values: dict[str, Any] = {}
    home_hint = env.get("STEAD_HOME")
    for candidate in (cwd / "stead.toml", Path(home_hint) / "stead.toml" if home_hint else None):
        if candidate is not None and candidate.is_file():
            values.update(_read_toml(candidate))
            break
    for env_key, attr in _ENV_KEYS.items():
        if env.get(env_key):
            values[attr] = env[env_key]
    for attr in _BOOLEANS & set(values):
        values[attr] = _boolean(attr, values[attr], "The environment or stead.toml")
    home = Path(values.pop("home", cwd / ".stead")).expanduser()
    if not home.is_absolute():
        home = (cwd / home).resolve()
    aws = {k: env[k] for k in _AWS_KEYS if env.get(k)}
    return Settings(home=home, aws=aws, **values)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The variables that make ``load_settings()`` in a child process return ``settings``
    (what is not set stays unset; the AWS keys are passed as they are)."""
    env: dict[str, str] = {"STEAD_HOME": str(settings.home)}
    for env_key, attr in _ENV_KEYS.items():
        value = getattr(settings, attr)
        if attr == "store_url":
            value = settings.resolved_store_url
        elif attr == "artifacts_url":
            value = settings.resolved_artifacts_url
        if isinstance(value, bool):
            value = "1" if value else ""
        if value and env_key not in env:
            env[env_key] = str(value)
    env.update(settings.aws)
    return env


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment for a child process that runs stead (``stead pipeline run`` launched
    by the scheduler or the server): this process's environment with ``settings`` over it."""
    return {**os.environ, **settings_environment(settings)}


def kubeconfig_path() -> Path:
    """Where kubectl's configuration is: ``$KUBECONFIG`` (its first entry), else ~/.kube/config."""
    named = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(named).expanduser() if named else Path.home() / ".kube" / "config"


def color_wanted(is_terminal: bool) -> bool:
    """Colour on a terminal unless ``NO_COLOR`` is set (https://no-color.org)."""
    return is_terminal and not os.environ.get("NO_COLOR")


_HOME_GITIGNORE = """\
# Written by stead: keep the local database, artifacts and data cache out of git.
# remotes.toml is meant to be committed.
stead.db*
*.lock
artifacts/
cache/
"""


def prepare_home(settings: Settings) -> Path:
    """Create the stead home on first use (readable by its owner only: it holds the store),
    with a .gitignore for what must not be committed."""
    home = settings.home
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    ignore = home / ".gitignore"
    if not ignore.exists():
        ignore.write_text(_HOME_GITIGNORE)
    return home

"""Which remotes a project names: the team's, kept in the metadata store, and this home's.

``stead remote add origin s3://bucket/data`` records ``origin`` in the metadata store, so
on PostgreSQL every collaborator (every home, every machine) sees it without adding it
again. ``--local`` records it in ``<home>/remotes.toml`` instead: a per-home override that
wins over a team remote of the same name, and whose default wins over the team's (a
mirror closer to this machine, a folder for tests). ``get`` reads the home file first and
asks the store only when the home does not answer, so a home with its own default never
opens the store to push or pull.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from stead.errors import AlreadyExists, InvalidParameter, NotFound

if TYPE_CHECKING:
    from stead.config import Settings

__all__ = ["Remotes", "HomeRemotes", "normalize_url"]

_NAME = re.compile(r"^[A-Za-z0-9][\w.\-]{0,63}$")


def normalize_url(name: str, url: str) -> str:
    """The URL to record for remote ``name``: checked, a folder made absolute."""
    if not _NAME.match(name or ""):
        raise InvalidParameter(f"Invalid remote name {name!r}: letters, digits, '_', '-', '.' (at most 64)")
    if "://" in url and not url.startswith(("s3://", "file://")):
        raise InvalidParameter(f"Remote URL {url!r} has an unsupported scheme; use a folder path or s3://bucket/prefix")
    if url.startswith("s3://") and len(url) <= 5:
        raise InvalidParameter(f"Remote URL {url!r} names no bucket; write s3://bucket/prefix")
    url = url.removeprefix("file://")
    return url if "://" in url else str(Path(url).expanduser().resolve())


class HomeRemotes:
    """Named remotes in ``<home>/remotes.toml``: this home's overrides."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / "remotes.toml"

    def load(self) -> tuple[dict[str, str], str | None]:
        if not self.path.exists():
            return {}, None
        import tomllib

        try:
            doc = tomllib.loads(self.path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise InvalidParameter(f"{self.path} is not valid TOML: {exc}") from exc
        remotes = {k: str(v.get("url", "")) for k, v in doc.get("remotes", {}).items()}
        return remotes, doc.get("default")

    def save(self, remotes: Mapping[str, str], default: str | None) -> None:
        lines = ["# stead data remotes of this home (stead remote add --local); they override the team's\n"]
        if default:
            lines.append(f"default = {_toml_str(default)}\n")
        for name, url in remotes.items():
            lines.append(f"\n[remotes.{name}]\nurl = {_toml_str(url)}\n")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(lines))
        os.replace(tmp, self.path)


class Remotes:
    """The remotes of a project: the team's (metadata store) overridden by this home's."""

    def __init__(self, settings: "Settings") -> None:
        from stead.data.workspace import Workspace

        self.settings = settings
        self.home = HomeRemotes(Workspace.from_settings(settings).home)

    def team(self) -> tuple[dict[str, str], str | None]:
        from stead.data.lite import run

        return run(self.settings.resolved_store_url, "remotes")  # type: ignore[no-any-return]

    def load(self) -> tuple[dict[str, str], str | None]:
        """Every remote name -> URL, and the default name (None when there is none)."""
        return _merge(self.home.load(), self.team())

    def listing(self) -> list[dict[str, object]]:
        mine, my_default = self.home.load()
        team, team_default = self.team()
        remotes, default = _merge((mine, my_default), (team, team_default))
        return [
            {"name": n, "url": u, "default": n == default,
             "scope": "home" if n in mine else "team", "overrides": n in mine and n in team}
            for n, u in sorted(remotes.items())
        ]

    def get(self, name: str | None) -> tuple[str, str]:
        """``(name, url)`` of remote ``name`` (None: the default one)."""
        mine, my_default = self.home.load()
        if name is None and my_default in mine:
            return my_default, mine[my_default]  # type: ignore[index,return-value]
        if name is not None and name in mine:
            return name, mine[name]
        remotes, default = _merge((mine, my_default), self.team())
        if name is None:
            if default is None or default not in remotes:
                raise InvalidParameter(
                    "No data remote is configured; add one: stead remote add origin s3://bucket/prefix"
                )
            name = default
        if name not in remotes:
            raise NotFound(f"No remote named {name!r}; see `stead remote list`")
        return name, remotes[name]

    def default(self) -> str | None:
        """The default remote's name, or None (no remote is configured)."""
        try:
            return self.get(None)[0]
        except InvalidParameter:
            return None

    def add(self, name: str, url: str, *, default: bool = False, force: bool = False, local: bool = False) -> str:
        """Name a remote for the team (or, ``local``, for this home only); its recorded URL."""
        url = normalize_url(name, url)
        if local:
            mine, current = self.home.load()
            if name in mine and not force:
                raise AlreadyExists(f"A remote named {name!r} exists in this home ({mine[name]}); pass --force")
            mine[name] = url
            self.home.save(mine, name if default else current)
            return url
        from stead.data import service

        store = self._store()
        try:
            service.put_remote(store, name, url, default=default, force=force)
        finally:
            store.dispose()
        return url

    def remove(self, name: str, *, local: bool = False) -> None:
        if local:
            mine, current = self.home.load()
            if name not in mine:
                raise NotFound(f"No remote named {name!r} in this home; see `stead remote list`")
            del mine[name]
            self.home.save(mine, current if current != name else None)
            return
        from stead.data import service

        store = self._store()
        try:
            found = service.delete_remote(store, name)
        finally:
            store.dispose()
        if not found:
            hint = " (it is this home's: pass --local)" if name in self.home.load()[0] else ""
            raise NotFound(f"No team remote named {name!r}{hint}; see `stead remote list`")

    def _store(self):  # type: ignore[no-untyped-def]
        from stead.store import open_store

        return open_store(self.settings.resolved_store_url)


def _merge(
    home: tuple[dict[str, str], str | None], team: tuple[dict[str, str], str | None]
) -> tuple[dict[str, str], str | None]:
    """This home's remotes over the team's, and the default name (None when there is none)."""
    mine, my_default = home
    theirs, team_default = team
    default = my_default if my_default in mine else team_default
    if default is None and mine:
        default = next(iter(mine))  # no team default: this home's first remote
    return {**theirs, **mine}, default


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

"""The project a user versions data in: its root, its stead home and cache, its files.

The project root is the folder that holds the stead home (``.stead``); every path a user
versions must be inside it, so that pointer files and manifests hold relative paths that
mean the same thing in every clone.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from stead.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.data.cache import Cache
    from stead.data.state import State

__all__ = ["Workspace", "FileStat", "walk", "check_name", "NAME_RULE", "SKIP_DIRS"]

NAME_RULE = re.compile(r"^[A-Za-z0-9][\w.\-]{0,199}$")
SKIP_DIRS = frozenset({".git", ".stead", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv"})

FileStat = tuple[str, os.stat_result]  # absolute path, its stat


def check_name(name: str) -> str:
    if not NAME_RULE.match(name or "") or name.endswith(".stead"):
        raise InvalidParameter(
            f"Invalid dataset name {name!r}: use letters, digits, '_', '-' and '.', starting with a "
            "letter or digit (at most 200 characters), e.g. customers"
        )
    return name


@dataclass
class Workspace:
    """Where things are for data versioning: ``root`` (the project) and ``home`` (.stead)."""

    root: Path
    home: Path

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Workspace":
        home = Path(settings.home).resolve()
        return cls(root=home.parent, home=home)

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    def cache(self) -> "Cache":
        from stead.data.cache import Cache

        return Cache(self.cache_dir)

    def state(self) -> "State":
        from stead.data.state import State

        return State(self.cache_dir / "state.db")

    def resolve(self, path: str | os.PathLike[str], *, must_exist: bool = True) -> Path:
        """The absolute path of ``path``, which must lie inside the project."""
        p = Path(path).expanduser()
        if not p.is_absolute():
            p = Path.cwd() / p
        p = Path(os.path.normpath(p))
        real = p.resolve()
        if real != self.root and self.root not in real.parents:
            raise InvalidParameter(
                f"{path} is outside the project {self.root}; version data inside the project "
                "(the folder that holds .stead) or set STEAD_HOME"
            )
        if self.home == real or self.home in real.parents:
            raise InvalidParameter(f"{path} is inside stead's own folder {self.home}; pick your data folder")
        if must_exist and not p.exists():
            raise NotFound(f"{path} does not exist; give the path of a data file or folder")
        return real

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def pointers(self, start: Path | None = None) -> list[Path]:
        """Every ``*.stead`` pointer file in the project, skipping versioned data folders."""
        found: list[Path] = []
        stack = [str(start or self.root)]
        while stack:
            top = stack.pop()
            try:
                entries = list(os.scandir(top))
            except OSError:
                continue
            names = {e.name for e in entries}
            for e in entries:
                if e.name.endswith(".stead") and e.is_file():
                    found.append(Path(e.path))
                elif e.is_dir(follow_symlinks=False):
                    if e.name in SKIP_DIRS or e.name.startswith(".") or f"{e.name}.stead" in names:
                        continue
                    if os.path.exists(os.path.join(e.path, "pyvenv.cfg")):
                        continue
                    stack.append(e.path)
        return sorted(found)


def walk(root: str) -> dict[str, os.stat_result]:
    """``relative posix path -> stat`` of every file below ``root`` (symlinks followed).

    One ``listdir`` per folder and one ``stat`` per name relative to the folder's
    descriptor: faster than ``scandir`` entries, and it is most of ``status``'s time.
    """
    out: dict[str, os.stat_result] = {}
    stack = [("", root)]
    isdir, isreg = stat.S_ISDIR, stat.S_ISREG
    while stack:
        rel, top = stack.pop()
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name in os.listdir(fd):
                try:
                    st = os.stat(name, dir_fd=fd)
                except FileNotFoundError:
                    continue  # deleted meanwhile, or a dangling symlink
                mode = st.st_mode
                if isreg(mode):
                    out[rel + name] = st
                elif isdir(mode) and name not in SKIP_DIRS:
                    stack.append((f"{rel}{name}/", f"{top}/{name}"))
        finally:
            os.close(fd)
    return out


class CacheLock:
    """``add``, ``pull`` and ``checkout`` hold it shared, ``gc`` exclusively, so gc never
    deletes an object that a running add has stored but not yet recorded."""

    def __init__(self, ws: Workspace, *, exclusive: bool = False) -> None:
        self.path = ws.cache_dir / "lock"
        self.exclusive = exclusive
        self._f: TextIO | None = None

    def __enter__(self) -> "CacheLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a")  # noqa: SIM115
        fcntl.flock(self._f, fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._f is not None:
            self._f.close()

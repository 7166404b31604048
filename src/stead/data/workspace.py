"""The project a user versions data in: its root, its stead home and cache, its files.

The project root is the folder that holds the stead home (``.stead``); every path a user
versions must be inside it, so that pointer files and manifests hold relative paths that
mean the same thing in every clone.
"""

from __future__ import annotations

import errno
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
        """The absolute path of ``path``, which must lie inside the project (and, with
        ``must_exist``, exist: a missing path is "no such file" wherever it is)."""
        p = Path(path).expanduser()
        if not p.is_absolute():
            p = Path.cwd() / p
        p = Path(os.path.normpath(p))
        if must_exist and not p.exists():
            where = "" if Path(path).is_absolute() else f" (looked in {Path.cwd()})"
            raise NotFound(f"No such file or folder: {path}{where}; give the path of a data file or folder")
        real = p.resolve()
        if real != self.root and self.root not in real.parents:
            raise InvalidParameter(
                f"{path} is outside the project {self.root}; version data inside the project "
                "(the folder that holds .stead) or set STEAD_HOME"
            )
        self._not_in_home(real, path)
        return real

    def _not_in_home(self, real: Path, path: object) -> None:
        if self.home == real or self.home in real.parents:
            raise InvalidParameter(f"{path} is inside stead's own folder {self.home}; pick your data folder")

    def destination(self, path: str | os.PathLike[str]) -> Path:
        """Where a user asked a checkout to go (``--to``): anywhere but stead's own folder."""
        real = Path(os.path.realpath(Path(path).expanduser()))
        self._not_in_home(real, path)
        return real

    def data_path(self, rel: str, what: str) -> Path:
        """The project path of a record's ``rel`` (a version's path from the store or a
        remote), checked: a safe relative path that stays in the project."""
        from stead.data.paths import check_relative

        dest = self.root / check_relative(rel, what)
        return self.check_inside(dest, what)

    def check_inside(self, dest: Path, what: str) -> Path:
        """``dest`` when, with every symbolic link resolved, it lies in the project and
        outside stead's own folder; else one clear error before anything is written."""
        real = Path(os.path.realpath(dest))
        if real == self.root or self.root not in real.parents:
            raise InvalidParameter(
                f"{what} would write to {real}, outside the project {self.root} (through a symbolic "
                "link or a crafted path); refusing to write anything"
            )
        self._not_in_home(real, dest)
        return dest

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
    """``relative path -> stat`` of every file below ``root``.

    One ``listdir`` per folder and one ``lstat`` per name relative to the folder's
    descriptor: faster than ``scandir`` entries, and it is most of ``status``'s time.
    A symbolic link is followed only while it stays inside ``root``: one that leads out of
    it, or to a folder that holds it (a cycle), is an error; a dangling one is skipped.
    """
    out: dict[str, os.stat_result] = {}
    top_st = os.stat(root)
    # (relative path, folder, (device, inode) of the folders it is in, itself included)
    stack: list[tuple[str, str, tuple[tuple[int, int], ...]]] = [("", root, ((top_st.st_dev, top_st.st_ino),))]
    isdir, isreg, islnk = stat.S_ISDIR, stat.S_ISREG, stat.S_ISLNK
    real_root: str | None = None
    while stack:
        rel, top, held = stack.pop()
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name in os.listdir(fd):
                link = False
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    if islnk(st.st_mode):
                        if real_root is None:
                            real_root = os.path.realpath(root)
                        st, link = _follow(real_root, top, name), True
                except FileNotFoundError:
                    continue  # deleted meanwhile, or a dangling symlink
                mode = st.st_mode
                if isreg(mode):
                    out[rel + name] = st
                elif isdir(mode) and name not in SKIP_DIRS:
                    key = (st.st_dev, st.st_ino)
                    if link and key in held:
                        raise InvalidParameter(
                            f"{top}/{name} is a symbolic link to {os.path.realpath(f'{top}/{name}')}, a folder "
                            "that holds it: a link cycle. Remove the link"
                        )
                    stack.append((f"{rel}{name}/", f"{top}/{name}", (*held, key)))
        finally:
            os.close(fd)
    return out


def _follow(real_root: str, top: str, name: str) -> os.stat_result:
    """The stat of what the link ``top/name`` points to, when that stays in ``real_root``;
    ``FileNotFoundError`` when it points nowhere."""
    link = f"{top}/{name}"
    real = os.path.realpath(link)
    try:
        st = os.stat(real)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise InvalidParameter(f"{link} is a symbolic link that leads to itself: a link cycle. Remove the link") from None
    if real != real_root and not real.startswith(real_root.rstrip("/") + "/"):
        raise InvalidParameter(
            f"{link} is a symbolic link to {real}, outside {real_root}; stead does not follow links out of "
            "a versioned folder. Copy that data in, version it where it is, or remove the link"
        )
    return st


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

"""Paths inside a model directory, private temp folders and safe archive extraction.

Every relative path read from an MLmodel file is hostile input: it must name a file
inside the model directory, as written and after symlinks are followed.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from stead.errors import InvalidParameter

__all__ = ["inside", "private_tempdir", "safe_extract"]


def inside(root: str | Path, rel: object, what: str = "path") -> Path:
    """``root / rel`` after checking that ``rel`` is a relative path that stays in ``root``.

    Refuses non-strings, absolute paths, drive letters, backslashes, ``..`` segments and
    symlinks that lead outside ``root``.
    """
    if not isinstance(rel, str) or not rel or "\x00" in rel:
        raise InvalidParameter(f"MLmodel {what} {rel!r} is not a relative file path; refusing to load")
    pure = PurePosixPath(rel)
    if (
        pure.is_absolute()
        or "\\" in rel
        or (len(rel) > 1 and rel[1] == ":")
        or any(part == ".." for part in pure.parts)
    ):
        raise InvalidParameter(
            f"MLmodel {what} {rel!r} points outside the model directory; refusing to load"
        )
    base = Path(root).resolve()
    target = (base / pure).resolve()
    if target != base and base not in target.parents:
        raise InvalidParameter(
            f"MLmodel {what} {rel!r} resolves outside the model directory (a symlink?); refusing to load"
        )
    return target


def private_tempdir(prefix: str = "stead-model-") -> Path:
    """A fresh temp directory only the current user can read or write (mode 0o700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(path, 0o700)
    return path


def _check_member(dest: Path, name: str, *, is_link: bool) -> Path:
    if is_link:
        raise InvalidParameter(f"Archive member {name!r} is a link; refusing to extract")
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or (len(name) > 1 and name[1] == ":") or ".." in pure.parts:
        raise InvalidParameter(f"Archive member {name!r} points outside the target; refusing to extract")
    target = (dest / pure).resolve()
    if target != dest and dest not in target.parents:
        raise InvalidParameter(f"Archive member {name!r} points outside the target; refusing to extract")
    return target


def safe_extract(archive: str | Path, dest: str | Path) -> Path:
    """Extract a .tar(.gz) or .zip archive into ``dest``; any member that is absolute,
    climbs with ``..``, or is a symlink, hardlink or device is refused before anything is
    written."""
    dest_path = Path(dest).resolve()
    dest_path.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            for info in infos:
                mode = (info.external_attr >> 16) & 0o170000
                _check_member(dest_path, info.filename, is_link=mode == 0o120000)
            for info in infos:
                zf.extract(info, dest_path)
        return dest_path
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for m in members:
            if not (m.isfile() or m.isdir()):
                raise InvalidParameter(
                    f"Archive member {m.name!r} is a link or special file; refusing to extract"
                )
            _check_member(dest_path, m.name, is_link=False)
        for m in members:
            target = _check_member(dest_path, m.name, is_link=False)
            if m.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            assert src is not None
            with src, open(target, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
    return dest_path

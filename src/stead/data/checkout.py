"""``checkout``: put a version's files in place from the cache.

Files are reflinked from the cache where the file system can (btrfs, XFS, APFS), else
copied; a hard link (``link="hardlink"``) is opt-in because an in-place edit of a hard
linked file would change the cache. Every object is hashed while it is copied and only
renamed into place when it matches its name: a corrupt object is reported and removed
from the cache, never checked out. A file in the way whose content is not in the cache
(an unsaved change) is never overwritten or deleted without ``force``.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stead.data.cache import Cache, _unlink, copy_plain, copy_verified, disk_error, unique_suffix, write_plain
from stead.data.hashing import hash_file, parallel_map, workers
from stead.data.index import save_index
from stead.data.manifest import Manifest
from stead.data.paths import safe_dirs
from stead.data.state import hash_tree
from stead.data.workspace import Workspace, walk
from stead.errors import Conflict, InvalidParameter, InvalidState

__all__ = ["checkout", "CheckoutResult", "LINKS"]

LINKS = ("auto", "reflink", "copy", "hardlink")
_FICLONE = 0x40049409


@dataclass
class CheckoutResult:
    dest: Path
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)


def checkout(
    ws: Workspace,
    manifest: Manifest,
    dest: Path,
    *,
    kind: str = "dir",
    force: bool = False,
    link: str = "auto",
    on_progress: Callable[[int, int], None] | None = None,
    verified: Collection[str] = (),
    fetched: Mapping[str, bytes] | None = None,
) -> CheckoutResult:
    """Make ``dest`` (a folder, or a file when ``kind == "file"``) hold exactly ``manifest``.

    Objects named in ``verified`` were hashed on arrival by this process (``pull``); they
    are copied without being hashed again, and those in ``fetched`` (their bytes, still in
    memory) are written without reading the cache.
    """
    if link not in LINKS:
        raise InvalidParameter(f"Unknown link type {link!r}; use one of {', '.join(LINKS)}")
    cache = ws.cache()
    files = manifest.files
    if kind == "file":
        if len(files) != 1:
            raise InvalidParameter(
                f"A file version holds exactly one file, this manifest {len(files)}; refusing to check it out"
            )
        files = {dest.name: next(iter(files.values()))}  # the file itself, at the path given
        base = dest.parent
        existing = {dest.name: dest.stat()} if dest.is_file() else {}
        if dest.is_dir():
            raise Conflict(f"{dest} is a folder; the data set version is a file. Use --to another path")
    else:
        if dest.exists() and not dest.is_dir():
            raise Conflict(f"{dest} is a file; the data set version is a folder. Use --to another path")
        base = dest
        existing = walk(str(dest)) if dest.is_dir() else {}
    result = CheckoutResult(dest)
    state = ws.state()
    try:
        current, _errors, _n = hash_tree(state, str(base), existing, hash_file)
        to_write: dict[str, tuple[str, int]] = {}
        unsaved: list[str] = []
        for rel, (digest, size) in files.items():
            have = current.get(rel)
            if have is not None and have[0] == digest:
                result.unchanged += 1
                continue
            if have is not None and not cache.has(have[0]):
                unsaved.append(rel)
            to_write[rel] = (digest, size)
        extras = [rel for rel in existing if rel not in files] if kind == "dir" else []
        unsaved += [rel for rel in extras if rel in current and not cache.has(current[rel][0])]
        unsaved += [rel for rel in existing if rel not in current]  # unreadable: not known to be saved
        if unsaved and not force:
            shown = ", ".join(sorted(unsaved)[:5]) + (" ..." if len(unsaved) > 5 else "")
            raise Conflict(
                f"{len(unsaved)} file(s) in {dest} have changes that are not saved in any version "
                f"({shown}); save them with `stead data add` first, or pass --force to overwrite them"
            )
        missing = sorted(cache.missing(d for d, _ in to_write.values() if d not in verified))
        if missing:
            raise InvalidState(
                f"{len(missing)} object(s) of this version are not in the cache (e.g. {cache.path(missing[0])}); "
                "run `stead data pull` to fetch them"
            )
        written = _write_all(cache, base, to_write, link, on_progress, result, verified, fetched or {})
        corrupt = [(rel, to_write[rel][0]) for rel, st in written.items() if st is None]
        rows = []
        now_there = {rel: st for rel, st in existing.items() if rel in current and rel not in to_write}
        for rel in result.written:
            st = written[rel]
            now_there[rel] = st
            rows.append((f"{base}/{rel}", st.st_ino, st.st_size, st.st_mtime_ns, to_write[rel][0]))
        state.save(rows)
        save_index(state, str(dest), manifest.digest, files, now_there)
    finally:
        state.close()
    for rel in extras:
        os.unlink(base / rel)
        result.removed.append(rel)
        _prune_empty(base, rel)
    if corrupt:
        shown = "; ".join(f"{cache.path(d)} (for {rel})" for rel, d in corrupt[:5])
        raise InvalidState(
            f"{len(corrupt)} cache object(s) are corrupt and were not checked out: {shown}. "
            "They were removed from the cache; run `stead data pull` to fetch good copies"
        )
    return result


def _write_all(cache, base, to_write, link, on_progress, result, verified, fetched):  # type: ignore[no-untyped-def]
    """Place every file of ``to_write``; ``relative path -> stat`` of each, None if its
    object was corrupt (and is now removed from the cache)."""
    written: dict[str, os.stat_result | None] = {}
    can_reflink = [link in ("auto", "reflink")]

    def one(item: tuple[str, tuple[str, int]]) -> tuple[str, str, os.stat_result | None, int]:
        rel, (digest, size) = item
        trusted: bytes | bool = fetched.get(digest) if digest in fetched else digest in verified
        st = _materialize(cache, digest, size, f"{base}/{rel}", link, trusted, can_reflink)
        return rel, digest, st, size

    if to_write:
        dirs = {os.path.dirname(rel) for rel in to_write}
        escape = safe_dirs(str(base), dirs)
        if escape is not None:  # a symbolic link in the way: nothing is written
            raise InvalidParameter(
                f"{base}/{escape} leads out of {base} through a symbolic link; refusing to check out into it. "
                "Remove the link"
            )
        made: set[str] = set()
        for d in dirs:
            if d not in made:
                os.makedirs(base / d, exist_ok=True)
                made.update(_parents(d))
    try:
        for rel, digest, st, size in parallel_map(one, sorted(to_write.items()), workers()):
            written[rel] = st
            if st is not None:
                result.written.append(rel)
            else:
                cache.quarantine(digest)
            if on_progress:
                on_progress(1, size)
    except OSError as exc:
        raise disk_error(exc, f"checking out into {base}") from exc
    return written


def _parents(d: str) -> list[str]:
    out = [d]
    while "/" in d:
        d = d.rsplit("/", 1)[0]
        out.append(d)
    return out


def _materialize(
    cache: Cache, digest: str, size: int, dst: str, link: str, trusted: bytes | bool, can_reflink: list[bool]
) -> os.stat_result | None:
    """Place object ``digest`` at ``dst`` atomically and return its stat; None (and nothing
    placed) if the object is corrupt.

    ``trusted``: the object was verified moments ago, so it is copied without hashing
    (from these bytes, when they are given). ``can_reflink`` is shared by one checkout's
    files and turned off at the first failure.
    """
    src = cache.path(digest)
    folder, name = dst.rsplit("/", 1)
    tmp = f"{folder}/.{name}.{unique_suffix()}.stead-tmp"
    placed = False
    try:
        st: os.stat_result | None = None
        if link == "hardlink":
            if not trusted and hash_file(src) != (digest, size):
                return None
            os.link(src, tmp)
        elif can_reflink[0] and _reflink(src, tmp):
            if not trusted and hash_file(tmp) != (digest, size):
                return None
        else:
            if link == "reflink":
                raise InvalidParameter(f"The file system of {folder} cannot reflink; use --link copy")
            can_reflink[0] = False
            if isinstance(trusted, bytes):
                st = write_plain(tmp, trusted)
            elif trusted:
                st = copy_plain(src, tmp)  # read once, or copied by the kernel
            elif not copy_verified(src, tmp, digest, size, mode=0o666):  # the user's file: writable, as cp makes it
                return None
        os.replace(tmp, dst)
        placed = True
        return st or os.stat(dst)
    finally:
        if not placed:
            _unlink(tmp)


def _reflink(src: str, dst: str) -> bool:
    try:
        with open(src, "rb") as s, open(dst, "wb") as d:
            fcntl.ioctl(d.fileno(), _FICLONE, s.fileno())
        return True
    except OSError:
        if os.path.exists(dst):
            os.unlink(dst)
        return False


def _prune_empty(base: Path, rel: str) -> None:
    parent = (base / rel).parent
    while parent != base and base in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent

"""``add``: put a file or folder into the cache and record it as a new data set version.

Order of effects, so that an interruption at any point leaves everything consistent:
objects (each atomic) -> manifest object -> store record -> pointer file. Running ``add``
again after a kill finds the objects already stored and finishes the job.
"""

from __future__ import annotations

import errno
import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stead.data.cache import disk_error
from stead.data.index import load_hashes, load_index, save_index, unknown_files
from stead.data.manifest import Manifest
from stead.data.paths import unsafe
from stead.data.pointer import Pointer, pointer_path, read_pointer, write_pointer
from stead.data.state import State, hash_tree
from stead.data.workspace import Workspace, check_name, walk
from stead.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from stead.data.lite import LiteStore
    from stead.data.records import DatasetVersion
    from stead.store.engine import Store

__all__ = ["add", "AddResult", "build_manifest"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AddResult:
    version: "DatasetVersion"
    created: bool  # False when nothing changed since the latest version
    pointer: Path
    hashed_files: int  # files read because the state did not vouch for them


def scan_target(target: Path) -> tuple[str, dict[str, os.stat_result], str]:
    """``(base folder, relative path -> stat, kind)`` of a file or folder."""
    if target.is_dir():
        base, files, kind = str(target), walk(str(target)), "dir"
    elif target.is_file():
        base, files, kind = str(target.parent), {target.name: target.stat()}, "file"
    else:
        raise InvalidParameter(f"{target} is neither a file nor a folder")
    bad = unsafe(files)
    if bad:
        raise InvalidParameter(
            f"{base}/{bad[0]} has a name no checkout would write back (a backslash, a control character or a "
            f"drive letter){f' (and {len(bad) - 1} more)' if len(bad) > 1 else ''}; rename it and add again"
        )
    return base, files, kind


def build_manifest(
    ws: Workspace, target: Path, *, on_progress: Progress | None = None
) -> tuple[Manifest, str, int]:
    """Hash ``target`` into the cache; return its manifest, kind and files read."""
    base, files, kind = scan_target(target)
    if not files:
        raise InvalidParameter(f"{target} holds no files; there is nothing to version")
    cache = ws.cache()
    cache.ensure()
    state = ws.state()
    stored: set[str] = set()
    cut = len(base) + 1
    have: set[str] | None = None

    def store(path: str) -> tuple[str, int]:
        digest, size, _stored = cache.add_file(path, files[path[cut:]], have)
        stored.add(path)
        return digest, size

    try:
        known = _unchanged_since_index(state, target, files)
        if known and on_progress:
            on_progress(len(known), sum(size for _digest, size in known.values()))
        todo = {rel: st for rel, st in files.items() if rel not in known} if known else files
        have = cache.listing_if_cheap(len(todo))  # many new files: one listing, not a stat each
        hashes, errors, hashed = hash_tree(state, base, todo, store, on_progress)
        hashes.update(known)
        # A file the state vouches for needs its object in the cache too (gc may have run).
        vouched = {rel: digest for rel, (digest, _size) in hashes.items() if f"{base}/{rel}" not in stored}
        lacking = cache.missing(vouched.values())
        for rel, digest in vouched.items():
            if digest not in lacking:
                continue
            try:
                got, size, _ = cache.add_file(f"{base}/{rel}")
            except OSError as exc:
                errors[rel] = exc
                continue
            hashes[rel] = (got, size)
        if errors:
            _raise_for(errors, base)
        manifest = Manifest.from_entries(hashes)
        save_index(state, str(target), manifest.digest, manifest.files, files)
    finally:
        state.close()
    return manifest, kind, hashed


def _unchanged_since_index(state: "State", target: Path, files: dict[str, os.stat_result]) -> dict[str, tuple[str, int]]:
    """``relative path -> (hash, size)`` of the files whose stat still matches the tree
    index of the target's current version (see ``stead.data.index``): adding a folder
    again costs one index row instead of a state-table row per file."""
    try:
        p = read_pointer(pointer_path(target))
    except InvalidParameter:
        return {}
    if p.path != target.name:
        return {}
    index = load_index(state, str(target), p.manifest)
    hashes = load_hashes(state, str(target), p.manifest) if index else None
    if not index or hashes is None:
        return {}
    unknown = unknown_files(index, files)
    return {rel: (hashes[rel], st.st_size) for rel, st in files.items() if rel not in unknown and rel in hashes}


def _raise_for(errors: dict[str, OSError], base: str) -> None:
    rel, exc = next(iter(sorted(errors.items())))
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        raise disk_error(exc, "copying files into the cache") from exc
    if isinstance(exc, FileNotFoundError):
        raise NotFound(f"{base}/{rel} disappeared while it was being added; run it again") from exc
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise disk_error(exc, f"reading {base}/{rel}{more}") from exc


def add(
    ws: Workspace,
    store: "Store | LiteStore | Callable[[], Store | LiteStore]",
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    message: str = "",
    run_id: str | None = None,
    profile: bool = True,
    on_progress: Progress | None = None,
) -> AddResult:
    """Version the file or folder at ``path`` as data set ``name`` (default: its name).

    ``store`` may be a function that returns the store, called once the files are hashed
    (so that opening it can run alongside).
    """
    target = ws.resolve(path)
    if target == ws.root:
        raise InvalidParameter(
            f"{path} is the project itself; version a data file or folder inside it (e.g. data/customers)"
        )
    name = check_name(name or target.name)
    manifest, kind, hashed = build_manifest(ws, target, on_progress=on_progress)
    cache = ws.cache()
    cache.put_bytes(manifest.to_bytes())
    prof: dict[str, Any] | None = None
    if profile:
        from stead.data.profile import profile_manifest

        prof = profile_manifest(cache, manifest) or None
    opened = store() if callable(store) else store
    from stead.data.lite import LiteStore

    if isinstance(opened, LiteStore):
        record = opened.record_version
    else:
        from functools import partial

        from stead.data import service

        record = partial(service.record_version, opened)
    version, created = record(
        name,
        manifest,
        path=ws.relative(target),
        kind=kind,
        user_id=_user(),
        run_id=run_id,
        message=message,
        profile=prof,
    )
    pointer = pointer_path(target)
    try:
        write_pointer(
            pointer,
            Pointer(name, version.version, target.name, kind, manifest.digest, manifest.num_files, manifest.num_bytes),
        )
        _gitignore(ws, target)
    except OSError as exc:
        raise disk_error(exc, f"writing the pointer file {pointer}") from exc
    return AddResult(version, created, pointer, hashed)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _gitignore(ws: Workspace, target: Path) -> None:
    """Keep the data itself out of git (its pointer file goes in), inside a git repository."""
    if not any((p / ".git").exists() for p in (target.parent, *target.parent.parents)):
        return
    ignore = target.parent / ".gitignore"
    line = f"/{target.name}"
    existing = ignore.read_text().splitlines() if ignore.exists() else []
    if line not in existing:
        with ignore.open("a") as f:
            if existing and not ignore.read_text().endswith("\n"):
                f.write("\n")
            f.write(line + "\n")

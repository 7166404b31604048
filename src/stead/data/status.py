"""``status``: what changed in versioned data since its pointer file's version.

Needs no metadata store: the pointer names a manifest object in the cache, the state
table vouches for unchanged files, and only files whose (inode, size, mtime) moved are
hashed again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stead.data.hashing import hash_file
from stead.data.index import load_hashes, load_index, save_index, unknown_files
from stead.data.manifest import Manifest, diff_manifests
from stead.data.pointer import read_pointer
from stead.data.state import hash_tree
from stead.data.workspace import Workspace, walk
from stead.errors import InvalidState

__all__ = ["DataStatus", "status", "load_manifest"]


@dataclass(frozen=True)
class DataStatus:
    pointer: str  # project-relative pointer file
    name: str
    version: int
    added: list[str]
    modified: list[str]
    deleted: list[str]
    missing: bool = False  # the data is not in the workspace at all

    @property
    def clean(self) -> bool:
        return not (self.added or self.modified or self.deleted or self.missing)

    def to_json(self) -> dict[str, object]:
        return {
            "pointer": self.pointer,
            "name": self.name,
            "version": self.version,
            "clean": self.clean,
            "missing": self.missing,
            "added": self.added,
            "modified": self.modified,
            "deleted": self.deleted,
        }


def load_manifest(ws: Workspace, digest: str, where: str) -> Manifest:
    cache = ws.cache()
    try:
        return Manifest.from_bytes(cache.read_bytes(digest))
    except FileNotFoundError:
        raise InvalidState(
            f"The manifest of {where} is not in the cache; run `stead data pull` to fetch it"
        ) from None
    except OSError as exc:
        cache.quarantine(digest)
        raise InvalidState(f"The manifest of {where} was corrupt in the cache ({exc}); run `stead data pull`") from exc


def current_files(ws: Workspace, data: Path, kind: str) -> tuple[str, dict[str, os.stat_result]]:
    if kind == "file":
        return str(data.parent), ({data.name: data.stat()} if data.is_file() else {})
    return str(data), (walk(str(data)) if data.is_dir() else {})


def status(ws: Workspace, pointer_file: Path) -> DataStatus:
    pointer_file = pointer_file.resolve()
    p = read_pointer(pointer_file)
    where = ws.relative(pointer_file)
    data = ws.check_inside(p.data_path(pointer_file), f"The pointer file {where}")
    base, files = current_files(ws, data, p.kind)
    state = ws.state()
    try:
        index = load_index(state, str(data), p.manifest)
        if index is None:
            manifest = load_manifest(ws, p.manifest, where)
            if not files:
                return DataStatus(where, p.name, p.version, [], [], sorted(manifest.files), missing=True)
            hashes, _errors, _n = hash_tree(state, base, files, hash_file)
            save_index(state, str(data), p.manifest, manifest.files,
                       {rel: st for rel, st in files.items() if hashes.get(rel) == manifest.files.get(rel)})
            d = diff_manifests(manifest.files, hashes)
            return DataStatus(where, p.name, p.version, d.added, d.modified, d.deleted)
        if not files:
            return DataStatus(where, p.name, p.version, [], [], sorted(index), missing=True)
        unknown = unknown_files(index, files)
        deleted = sorted(rel for rel in index if rel not in files) if len(files) - len(unknown) < len(index) else []
        if not unknown:
            return DataStatus(where, p.name, p.version, [], [], deleted)
        hashes, _errors, _n = hash_tree(state, base, unknown, hash_file)
        recorded = load_hashes(state, str(data), p.manifest) if any(rel in index for rel in unknown) else {}
    finally:
        state.close()
    if recorded is None:  # the index changed under us: read the manifest
        recorded = {rel: h for rel, (h, _size) in load_manifest(ws, p.manifest, where).files.items()}
    added = sorted(rel for rel in unknown if rel not in index and rel in hashes)
    modified = sorted(rel for rel in unknown if rel in index and rel in hashes and hashes[rel][0] != recorded.get(rel))
    deleted = sorted({*deleted, *(rel for rel in unknown if rel in index and rel not in hashes)})
    return DataStatus(where, p.name, p.version, added, modified, deleted)

"""Pointer files: ``PATH.stead``, a few lines of text committed to git next to the data.

    # stead data pointer: commit this file; `stead data checkout` restores the data.
    name: customers
    version: 4
    path: customers
    kind: dir
    manifest: 9f2c...
    files: 21000
    bytes: 1130496000

A git checkout of an older commit brings back an older pointer; ``stead data checkout``
then puts that version's files in place from the cache (``pull`` fetches them first).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stead.data.cache import is_object_name
from stead.data.paths import check_relative
from stead.data.workspace import check_name
from stead.errors import InvalidParameter

__all__ = ["Pointer", "read_pointer", "write_pointer", "pointer_path"]

SUFFIX = ".stead"
_HEADER = "# stead data pointer: commit this file; `stead data checkout` restores the data.\n"


@dataclass(frozen=True)
class Pointer:
    name: str
    version: int
    path: str  # the data's name relative to the pointer's folder
    kind: str  # "dir" or "file"
    manifest: str
    files: int
    bytes: int

    def data_path(self, pointer_file: Path) -> Path:
        return pointer_file.parent / self.path


def pointer_path(data: Path) -> Path:
    return data.with_name(data.name + SUFFIX)


def write_pointer(pointer_file: Path, p: Pointer) -> None:
    text = _HEADER + "".join(
        f"{k}: {getattr(p, k)}\n" for k in ("name", "version", "path", "kind", "manifest", "files", "bytes")
    )
    tmp = pointer_file.with_name(f".{pointer_file.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, pointer_file)


def read_pointer(pointer_file: Path) -> Pointer:
    try:
        lines = pointer_file.read_text().splitlines()
    except FileNotFoundError:
        raise InvalidParameter(f"No pointer file {pointer_file}") from None
    fields: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    try:
        p = Pointer(
            name=fields["name"],
            version=int(fields["version"]),
            path=fields["path"],
            kind=fields.get("kind", "dir"),
            manifest=fields["manifest"],
            files=int(fields.get("files", 0)),
            bytes=int(fields.get("bytes", 0)),
        )
    except (KeyError, ValueError) as exc:
        raise InvalidParameter(
            f"{pointer_file} is not a valid stead pointer file ({exc}); restore it from git"
        ) from exc
    # It came through git: check it before anything is written where it says.
    check_relative(p.path, f"The pointer file {pointer_file}", single=True)
    if p.kind not in ("dir", "file") or not is_object_name(p.manifest) or p.version < 1:
        raise InvalidParameter(
            f"{pointer_file} is not a valid stead pointer file (kind {p.kind!r}, version {p.version}, "
            f"manifest {p.manifest!r}); restore it from git"
        )
    check_name(p.name)
    return p

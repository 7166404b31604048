"""The artifact store on a local (or mounted network) folder: the embedded default.

Plain ``os``/``shutil`` calls, no fsspec: it is the hot path of a laptop install. Every
path is checked twice: its text by ``paths.normalize_artifact_path``, then its resolved
location (``os.path.realpath``, following symbolic links) must still be under the
resolved root, so a link planted inside the root cannot be read or written through.
"""

from __future__ import annotations

import builtins
import os
import shutil
from pathlib import Path
from typing import BinaryIO

from stead.artifacts.atomic import write_atomic
from stead.artifacts.base import FileInfo, ReadableStream
from stead.artifacts.paths import join_path, normalize_artifact_path, normalize_object_path
from stead.artifacts.tree import StreamWrites, local_files, local_target
from stead.errors import InvalidParameter, NotFound, PermissionDenied

__all__ = ["LocalArtifactStore"]


class LocalArtifactStore(StreamWrites):
    """Artifacts under the directory ``root`` (created on the first write).

    ``sync=False`` skips the fsync calls: faster, but a power loss may lose writes that
    already returned (they stay atomic). For scratch stores only.
    """

    def __init__(self, root: str | Path, *, sync: bool = True) -> None:
        self.root = Path(os.path.abspath(Path(root).expanduser()))
        self.root_uri = str(self.root)
        self._sync = sync

    def __repr__(self) -> str:
        return f"LocalArtifactStore({self.root_uri!r})"

    # -- writing ---------------------------------------------------------------------

    def put_stream(self, stream: ReadableStream | BinaryIO, path: str) -> int:
        target = self._resolve(normalize_object_path(path), path)
        if target.is_dir():
            raise InvalidParameter(f"Artifact path {path!r} is a directory; delete it first.")
        return write_atomic(stream, target, sync=self._sync, name=f"artifact {path!r}")

    def put_dir(self, local_dir: str | Path, path: str = "") -> None:
        prefix = normalize_artifact_path(path)
        for local, rel in local_files(local_dir, prefix):
            self.put_file(local, rel)

    # -- reading ---------------------------------------------------------------------

    def open_read(self, path: str) -> BinaryIO:
        target = self._resolve(normalize_object_path(path), path)
        if target.is_dir():
            raise InvalidParameter(f"Artifact path {path!r} is a directory, not a file.")
        try:
            return open(target, "rb")
        except FileNotFoundError as exc:
            raise NotFound(f"Artifact {path!r} does not exist in {self.root_uri}.") from exc
        except PermissionError as exc:
            raise PermissionDenied(f"Cannot read artifact {path!r}: permission denied.") from exc

    def get_bytes(self, path: str) -> bytes:
        with self.open_read(path) as src:
            return src.read()

    def get_file(self, path: str, local_path: str | Path) -> None:
        with self.open_read(path) as src:
            write_atomic(src, Path(local_path), sync=False)

    def get_dir(self, path: str, local_dir: str | Path) -> None:
        rel_dir = normalize_artifact_path(path)
        source = self._resolve(rel_dir, path)
        if not source.is_dir():
            if source.exists():
                raise InvalidParameter(f"Artifact path {path!r} is a file; use get_file.")
            raise NotFound(f"Artifact directory {path!r} does not exist in {self.root_uri}.")
        copies = []  # checked in full first, so a bad entry fails before anything is written
        for dirpath, _dirnames, filenames in os.walk(source):
            for name in sorted(filenames):
                rel = Path(dirpath, name).relative_to(source).as_posix()
                store_path = join_path(rel_dir, rel)
                self._resolve(normalize_object_path(store_path), store_path)
                copies.append((store_path, local_target(local_dir, rel)))
        for store_path, target in copies:
            self.get_file(store_path, target)

    def list(self, path: str = "") -> builtins.list[FileInfo]:
        rel_dir = normalize_artifact_path(path)
        directory = self._resolve(rel_dir, path)
        try:
            entries = builtins.list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return []
        infos = []
        for entry in entries:
            if entry.is_symlink() and not self._inside(os.path.realpath(entry.path)):
                continue  # a link out of the root is not part of the store
            try:
                is_dir = entry.is_dir()
                size = None if is_dir else entry.stat().st_size
            except FileNotFoundError:
                continue  # a broken link, or deleted while listing
            infos.append(FileInfo(join_path(rel_dir, entry.name), is_dir, size))
        return sorted(infos)

    def exists(self, path: str) -> bool:
        return self._resolve(normalize_artifact_path(path), path).exists()

    def is_dir(self, path: str) -> bool:
        rel = normalize_artifact_path(path)
        return not rel or self._resolve(rel, path).is_dir()

    def size(self, path: str) -> int:
        target = self._resolve(normalize_object_path(path), path)
        if target.is_dir():
            raise InvalidParameter(f"Artifact path {path!r} is a directory; it has no size.")
        try:
            return target.stat().st_size
        except FileNotFoundError as exc:
            raise NotFound(f"Artifact {path!r} does not exist in {self.root_uri}.") from exc

    # -- deleting --------------------------------------------------------------------

    def delete(self, path: str) -> None:
        """Delete a file, a directory tree, or a symbolic link itself (never its target)."""
        rel = normalize_object_path(path)
        parent_rel, _, name = rel.rpartition("/")
        target = self._resolve(parent_rel, path) / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
            return
        try:
            target.unlink()
        except FileNotFoundError as exc:
            raise NotFound(f"Artifact {path!r} does not exist in {self.root_uri}.") from exc

    def uri_for(self, path: str) -> str:
        rel = normalize_artifact_path(path)
        return str(self.root.joinpath(*rel.split("/"))) if rel else self.root_uri

    # -- path safety -----------------------------------------------------------------

    def _resolve(self, rel: str, original: str) -> Path:
        """The real location of the canonical ``rel``, refused if it leaves the root."""
        real = os.path.realpath(os.path.join(self.root, *rel.split("/")) if rel else self.root)
        if not self._inside(real):
            raise InvalidParameter(
                f"Artifact path {original!r} resolves outside the artifact root {self.root_uri} "
                "through a symbolic link; remove the link or use a path without it.",
                path=original,
            )
        return Path(real)

    def _inside(self, real: str) -> bool:
        root = os.path.realpath(self.root)
        return real == root or real.startswith(root.rstrip(os.sep) + os.sep)

"""The artifact store on any fsspec filesystem: S3 (and MinIO, Ceph...), memory, others.

fsspec is imported when a store is built, never when ``stead.artifacts`` is imported.
Atomic writes take the cheapest route each kind of filesystem allows:

* object stores (``s3``): an object only becomes visible when its upload completes, so
  a small payload is one PUT and a large one a multipart upload that is completed on
  success and aborted on failure (no stray parts are billed or listed);
* everything else (``memory``, ...): a temporary sibling that is moved over the target
  on success and removed on failure.
"""

from __future__ import annotations

import builtins
import contextlib
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from stead.artifacts.atomic import iter_chunks, temp_name, write_atomic
from stead.artifacts.base import FileInfo, ReadableStream
from stead.artifacts.paths import join_path, normalize_artifact_path, normalize_object_path
from stead.artifacts.tree import StreamWrites, local_files, local_target
from stead.errors import (
    BackendUnavailable,
    InvalidParameter,
    NotFound,
    PermissionDenied,
    SteadError,
)

__all__ = ["FsspecArtifactStore"]

# Filesystems whose writes become visible only once complete (upload, then commit).
_COMMIT_ON_CLOSE = {"s3", "s3a"}
# S3 multipart part size; also the most a write buffers in memory (S3's minimum is 5 MiB).
PART_SIZE = 8 * 1024 * 1024
# Exceptions from these libraries mean "the backend failed", not "stead has a bug".
_BACKEND_LIBRARIES = {"botocore", "aiobotocore", "aiohttp", "s3fs", "fsspec"}


class FsspecArtifactStore(StreamWrites):
    """Artifacts under ``root_uri`` on the fsspec filesystem its scheme names."""

    def __init__(self, root_uri: str, storage_options: Mapping[str, Any] | None = None) -> None:
        from fsspec.core import url_to_fs

        self.root_uri = root_uri.rstrip("/")
        self._fs, root = url_to_fs(self.root_uri, **dict(storage_options or {}))
        self._root = root.rstrip("/")
        protocols = self._fs.protocol if isinstance(self._fs.protocol, tuple) else (self._fs.protocol,)
        self._commit_on_close = bool(_COMMIT_ON_CLOSE.intersection(protocols))
        # fsspec's memory filesystem hands out its stored buffer itself, one shared position
        # for every reader; readers get their own copy instead.
        self._shared_buffers = "memory" in protocols

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self.root_uri!r})"

    # -- writing ---------------------------------------------------------------------

    def put_stream(self, stream: ReadableStream | BinaryIO, path: str) -> int:
        full = self._full(normalize_object_path(path))
        chunks = iter_chunks(stream)  # the stream's own errors propagate untranslated
        if self._commit_on_close:
            return self._write_committed(chunks, full, path)
        return self._write_renamed(chunks, full, path)

    def _write_committed(self, chunks: Iterator[bytes], full: str, path: str) -> int:
        head = bytearray()
        for chunk in chunks:
            head += chunk
            if len(head) >= PART_SIZE:
                break
        else:  # the whole payload fits one request: a single PUT is atomic
            with self._errors(path, writing=True):
                self._fs.pipe_file(full, bytes(head))
            return len(head)
        with self._errors(path, writing=True):
            out = self._fs.open(full, "wb", autocommit=False, block_size=PART_SIZE)
        written = len(head)
        try:
            with self._errors(path, writing=True):
                out.write(bytes(head))
            del head
            for chunk in chunks:
                with self._errors(path, writing=True):
                    out.write(chunk)
                written += len(chunk)
            with self._errors(path, writing=True):
                out.close()
                out.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                out.close()  # uploads what is buffered to the upload about to be aborted
            with contextlib.suppress(Exception):
                out.discard()  # aborts the multipart upload
            raise
        return written

    def _write_renamed(self, chunks: Iterator[bytes], full: str, path: str) -> int:
        tmp = join_path(full.rpartition("/")[0], temp_name()) if "/" in full else temp_name()
        written = 0
        try:
            with self._errors(path, writing=True):
                out = self._fs.open(tmp, "wb")
            with out:
                for chunk in chunks:
                    with self._errors(path, writing=True):
                        out.write(chunk)
                    written += len(chunk)
            with self._errors(path, writing=True):
                self._fs.mv(tmp, full)
        except BaseException:
            with contextlib.suppress(Exception):
                self._fs.rm_file(tmp)
            raise
        return written

    def put_dir(self, local_dir: str | Path, path: str = "") -> None:
        prefix = normalize_artifact_path(path)
        for local, rel in local_files(local_dir, prefix):
            self.put_file(local, rel)

    # -- reading ---------------------------------------------------------------------

    def open_read(self, path: str) -> BinaryIO:
        full = self._full(normalize_object_path(path))
        with self._errors(path):
            if self._fs.info(full)["type"] == "directory":
                raise InvalidParameter(f"Artifact path {path!r} is a directory, not a file.")
            return self._reader(full)

    def get_bytes(self, path: str) -> bytes:
        with self.open_read(path) as src, self._errors(path):
            return src.read()

    def get_file(self, path: str, local_path: str | Path) -> None:
        with self.open_read(path) as src:
            write_atomic(_TranslatedReads(src, self, path), Path(local_path), sync=False)

    def get_dir(self, path: str, local_dir: str | Path) -> None:
        rel_dir = normalize_artifact_path(path)
        full = self._full(rel_dir)
        with self._errors(path):
            if not self._fs.isdir(full):
                if self._fs.exists(full):
                    raise InvalidParameter(f"Artifact path {path!r} is a file; use get_file.")
                raise NotFound(f"Artifact directory {path!r} does not exist in {self.root_uri}.")
            names = sorted(self._fs.find(full, withdirs=False))
        # Keys are anyone's with bucket access: all are checked (refusing 'a/../../x')
        # before anything is written. A directory's own marker object has no name here.
        copies = [
            (name, join_path(rel_dir, rel), local_target(local_dir, rel))
            for name, rel in ((name, self._relative(name, full)) for name in names)
            if rel
        ]
        for name, store_path, target in copies:
            with self._errors(store_path):
                src = self._reader(name)
            with src:
                write_atomic(_TranslatedReads(src, self, store_path), target, sync=False)

    def list(self, path: str = "") -> builtins.list[FileInfo]:
        rel_dir = normalize_artifact_path(path)
        full = self._full(rel_dir)
        with self._errors(path):
            try:
                entries = self._fs.ls(full, detail=True)
            except (FileNotFoundError, NotADirectoryError):
                return []
        infos = []
        for entry in entries:
            name = self._relative(entry["name"], full)
            if not name or "/" in name:
                continue  # the path itself (a file, or a directory marker)
            is_dir = entry["type"] == "directory"
            size = None if is_dir else int(entry.get("size") or 0)
            infos.append(FileInfo(join_path(rel_dir, name), is_dir, size))
        return sorted(set(infos))

    def exists(self, path: str) -> bool:
        full = self._full(normalize_artifact_path(path))
        with self._errors(path):
            return bool(self._fs.exists(full))

    def is_dir(self, path: str) -> bool:
        rel = normalize_artifact_path(path)
        if not rel:
            return True
        with self._errors(path):
            return bool(self._fs.isdir(self._full(rel)))

    def size(self, path: str) -> int:
        full = self._full(normalize_object_path(path))
        with self._errors(path):
            info = self._fs.info(full)
        if info["type"] == "directory":
            raise InvalidParameter(f"Artifact path {path!r} is a directory; it has no size.")
        return int(info["size"])

    # -- deleting --------------------------------------------------------------------

    def delete(self, path: str) -> None:
        full = self._full(normalize_object_path(path))
        with self._errors(path):
            info = self._fs.info(full)
            if info["type"] == "directory":
                self._fs.rm(full + "/", recursive=True)
            else:
                self._fs.rm_file(full)

    def uri_for(self, path: str) -> str:
        rel = normalize_artifact_path(path)
        return f"{self.root_uri}/{rel}" if rel else self.root_uri

    # -- helpers ---------------------------------------------------------------------

    def _reader(self, full: str) -> BinaryIO:
        if self._shared_buffers:
            return io.BytesIO(self._fs.cat_file(full))
        stream: BinaryIO = self._fs.open(full, "rb", block_size=PART_SIZE)
        return stream

    def _full(self, rel: str) -> str:
        return f"{self._root}/{rel}" if rel else self._root

    @staticmethod
    def _relative(name: str, parent: str) -> str:
        """``name`` relative to ``parent`` ('' for the parent itself or a stranger)."""
        name = name.rstrip("/")
        prefix = parent.rstrip("/") + "/"
        return name[len(prefix) :] if name.startswith(prefix) else ""

    @contextlib.contextmanager
    def _errors(self, path: str, *, writing: bool = False) -> Iterator[None]:
        """Turn the filesystem's exceptions into stead's, naming the artifact and store."""
        where = f"{path!r} in {self.root_uri}"
        try:
            yield
        except SteadError:
            raise
        except FileNotFoundError as exc:
            if writing:
                raise NotFound(
                    f"Cannot write artifact {where}: the bucket or location does not exist."
                ) from exc
            raise NotFound(f"Artifact {where} does not exist.") from exc
        except (IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
            raise InvalidParameter(
                f"Artifact path {where} clashes with an existing file or directory: {exc}"
            ) from exc
        except PermissionError as exc:
            raise PermissionDenied(
                f"The artifact store refused access to {where}: {exc}. Check the credentials "
                "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and the bucket policy."
            ) from exc
        except Exception as exc:
            if isinstance(exc, OSError) or _from_backend(exc):
                raise BackendUnavailable(
                    f"The artifact store {self.root_uri} failed on {path!r}: {exc}. Check that "
                    "it is reachable (AWS_ENDPOINT_URL) and retry."
                ) from exc
            raise


class _TranslatedReads:
    """A remote stream whose read failures become stead errors, so that a copy to a local
    file can tell the store's failures from the local disk's."""

    def __init__(self, stream: BinaryIO, store: FsspecArtifactStore, path: str) -> None:
        self._stream, self._store, self._path = stream, store, path

    def read(self, n: int = -1, /) -> bytes:
        with self._store._errors(self._path):
            return self._stream.read(n)


def _from_backend(exc: BaseException) -> bool:
    return any(cls.__module__.split(".")[0] in _BACKEND_LIBRARIES for cls in type(exc).__mro__)

"""The artifact store seam: what every backend (local folder, S3, memory) promises.

Tracking, the registry, data versioning, pipelines and serving only ever talk to this
Protocol, so that moving from a laptop folder to a bucket changes a URL, not code. The
contract tests in ``tests/artifacts`` run the same suite over every implementation.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

__all__ = ["ArtifactStore", "FileInfo", "ReadableStream"]


@dataclass(frozen=True, order=True)
class FileInfo:
    """One entry of a listing. ``path`` is relative to the store root; ``size`` is None
    for directories (object stores have no size for a prefix)."""

    path: str
    is_dir: bool
    size: int | None


class ReadableStream(Protocol):
    """Anything with ``read(n)``: an open file, a socket file, an HTTP request body."""

    def read(self, n: int = -1, /) -> bytes: ...


@runtime_checkable
class ArtifactStore(Protocol):
    """Bytes of runs, models and data objects under one root.

    Every ``path`` is a relative POSIX path inside the root, checked by
    ``stead.artifacts.paths.normalize_artifact_path``; '' names the root and is accepted
    only where that makes sense (``list``, ``exists``, ``is_dir``, ``put_dir``,
    ``get_dir``, ``uri_for``). Writes are atomic: a reader sees the old bytes or the new bytes, and a
    failed write leaves nothing at the target. Missing paths raise ``NotFound``.
    """

    root_uri: str

    def put_file(self, local_path: str | Path, path: str) -> None:
        """Copy a local file to ``path``, replacing it atomically."""
        ...

    def put_bytes(self, data: bytes, path: str) -> None:
        """Write ``data`` to ``path``, replacing it atomically."""
        ...

    def put_stream(self, stream: ReadableStream | BinaryIO, path: str) -> int:
        """Copy ``stream`` to ``path`` in bounded chunks; return the bytes written.

        If reading the stream fails midway nothing appears at ``path`` (and no
        temporary object is left behind); the stream's error propagates.
        """
        ...

    def put_dir(self, local_dir: str | Path, path: str = "") -> None:
        """Copy every file under ``local_dir`` to the same relative paths under ``path``."""
        ...

    def open_read(self, path: str) -> BinaryIO:
        """Open ``path`` for streaming reads; the caller closes it."""
        ...

    def get_bytes(self, path: str) -> bytes:
        """The whole content of ``path`` (for small files; stream big ones)."""
        ...

    def get_file(self, path: str, local_path: str | Path) -> None:
        """Copy ``path`` to a local file, replacing it atomically."""
        ...

    def get_dir(self, path: str, local_dir: str | Path) -> None:
        """Copy every file under ``path`` to the same relative paths under ``local_dir``."""
        ...

    def list(self, path: str = "") -> builtins.list[FileInfo]:
        """Direct children of the directory ``path``, sorted by path.

        A missing path or a file gives an empty list (as MLflow's ``list_artifacts``).
        """
        ...

    def exists(self, path: str) -> bool:
        """Whether ``path`` is a file or a non-empty directory."""
        ...

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory; '' (the root) always is."""
        ...

    def size(self, path: str) -> int:
        """The size in bytes of the file ``path``."""
        ...

    def delete(self, path: str) -> None:
        """Delete the file ``path``, or the directory ``path`` with everything under it."""
        ...

    def uri_for(self, path: str) -> str:
        """The full URI of ``path`` (``root_uri`` joined with it)."""
        ...

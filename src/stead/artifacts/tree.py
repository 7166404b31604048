"""Mapping between a local directory tree and artifact paths, for ``put_dir``/``get_dir``.

Both directions are hostile-input boundaries: local file names become store paths, and
store keys (which anyone with bucket access may have written) become local file names,
so each name goes through the same path rules before anything is written.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

from stead.artifacts.paths import join_path, normalize_artifact_path
from stead.errors import InvalidParameter, NotFound, PermissionDenied

__all__ = ["StreamWrites", "local_files", "local_target", "open_local"]


def local_files(local_dir: str | Path, prefix: str) -> list[tuple[Path, str]]:
    """Every regular file under ``local_dir`` with its store path under ``prefix``.

    Symbolic links to files are followed (they are the user's own files); linked
    directories are not descended into, so a link cycle cannot loop. All names are
    checked before the caller writes anything, so a bad name fails the whole upload.
    """
    base = Path(local_dir)
    if not base.is_dir():
        if base.exists():
            raise InvalidParameter(f"{base} is not a directory; use put_file for a single file.")
        raise NotFound(f"Local directory {base} does not exist.")
    pairs = []
    for dirpath, _dirnames, filenames in os.walk(base):
        for name in filenames:
            local = Path(dirpath, name)
            if not local.is_file():
                continue  # broken link, socket, fifo
            rel = local.relative_to(base).as_posix()
            pairs.append((local, normalize_artifact_path(join_path(prefix, rel))))
    return sorted(pairs, key=lambda pair: pair[1])


def local_target(local_dir: str | Path, rel: str) -> Path:
    """The local path for the store-relative name ``rel`` under ``local_dir``."""
    canonical = normalize_artifact_path(rel)
    if not canonical:
        raise InvalidParameter(f"Artifact path {rel!r} has no file name to write locally.")
    return Path(local_dir).joinpath(*canonical.split("/"))


def open_local(local_path: str | Path) -> BinaryIO:
    """Open a local source file for upload, with a clear error when it cannot be."""
    try:
        return open(local_path, "rb")
    except FileNotFoundError as exc:
        raise NotFound(f"Local file {local_path} does not exist.") from exc
    except IsADirectoryError as exc:
        raise InvalidParameter(f"{local_path} is a directory; use put_dir.") from exc
    except PermissionError as exc:
        raise PermissionDenied(f"Cannot read local file {local_path}: permission denied.") from exc


class StreamWrites:
    """``put_file`` and ``put_bytes`` for a store whose one writer is ``put_stream``, so each
    backend implements atomic writing once."""

    def put_stream(self, stream: BinaryIO, path: str) -> int:
        raise NotImplementedError

    def put_file(self, local_path: str | Path, path: str) -> None:
        with open_local(local_path) as src:
            self.put_stream(src, path)

    def put_bytes(self, data: bytes, path: str) -> None:
        self.put_stream(io.BytesIO(data), path)

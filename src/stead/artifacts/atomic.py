"""Chunked copying and atomic local writes, shared by the stores.

A local write goes to a temporary sibling (same directory, so same filesystem) which is
flushed to disk and then ``os.replace``-d over the target: readers see the old file or
the whole new one, never a prefix, and a crash or a failing source leaves no partial
file at the target. The temporary file is removed on every failure path.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from stead.artifacts.base import ReadableStream
from stead.errors import BackendUnavailable, InvalidParameter, PermissionDenied

__all__ = ["CHUNK_SIZE", "TEMP_PREFIX", "iter_chunks", "temp_name", "write_atomic"]

# Big enough to amortise syscalls and S3 round trips, small enough to never matter for memory.
CHUNK_SIZE = 1024 * 1024
TEMP_PREFIX = ".stead-tmp-"


def temp_name() -> str:
    """A fresh, hidden, collision-free name for a temporary sibling of a target."""
    return f"{TEMP_PREFIX}{uuid.uuid4().hex}"


def iter_chunks(stream: ReadableStream | BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Read ``stream`` to its end, at most ``chunk_size`` bytes at a time."""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        yield chunk


def write_atomic(
    stream: ReadableStream | BinaryIO, target: Path, *, sync: bool = True, name: str | None = None
) -> int:
    """Copy ``stream`` into ``target`` atomically; return the number of bytes written.

    Parent directories are created. With ``sync`` the data is fsync-ed before the rename
    and the directory after it, so an acknowledged write survives a power loss. Failures
    of the local filesystem become stead errors naming ``name`` (default: the path); an
    error raised by ``stream`` itself propagates unchanged.
    """
    what = name or str(target)
    with _writing(what):
        created = _make_parents(target.parent)
    tmp = target.parent / temp_name()
    written = 0
    try:
        with _writing(what):
            out = open(tmp, "xb")  # O_EXCL; mode 0o666 less the umask, like any new file
        try:
            for chunk in iter_chunks(stream):
                with _writing(what):
                    out.write(chunk)
                written += len(chunk)
            with _writing(what):
                out.flush()
                if sync:
                    os.fsync(out.fileno())
        finally:
            out.close()  # flushed above: nothing left that could fail here
        with _writing(what):
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise
    if sync:
        _fsync_dir(target.parent)
    return written


@contextmanager
def _writing(what: str) -> Iterator[None]:
    """Local filesystem failures as stead errors: one line saying what and what to do."""
    try:
        yield
    except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        raise InvalidParameter(
            f"Cannot write {what}: it is a directory, or a parent of it is a file, not a directory."
        ) from exc
    except PermissionError as exc:
        raise PermissionDenied(
            f"Cannot write {what}: permission denied. Check the owner and mode of its folder."
        ) from exc
    except OSError as exc:
        raise BackendUnavailable(f"Cannot write {what}: {exc.strerror or exc}.") from exc


def _make_parents(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents; return the ones created, deepest first."""
    missing = []
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    directory.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(directories: list[Path]) -> None:
    """Undo ``_make_parents`` after a failed write, leaving any a concurrent writer filled."""
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            return


def _fsync_dir(directory: Path) -> None:
    """Persist a rename; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

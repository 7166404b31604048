"""The content-addressed cache: ``<home>/cache/objects/ab/cdef...`` named by BLAKE3.

Every object is written to ``cache/tmp`` first and renamed into place once complete, so
an object that exists is whole: a killed process leaves at most a temporary file, which
``gc`` removes. Identical content is stored once, across files, data sets and versions.
Objects are made read-only. Objects are not fsync'ed one by one (that costs
milliseconds each); a power cut can truncate a recent object, which is why every object
is verified against its name before it is checked out or pushed.
"""

from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path

from blake3 import blake3

from stead.data.hashing import CHUNK, SMALL_FILE
from stead.errors import BackendUnavailable, InvalidParameter

__all__ = ["Cache", "disk_error"]

_HEX = "0123456789abcdef"


def disk_error(exc: OSError, what: str) -> BackendUnavailable:
    """One clear line for a failed write (a full disk above all)."""
    if exc.errno == errno.ENOSPC:
        return BackendUnavailable(f"No space left on the device while {what}; free some space and run it again")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return BackendUnavailable(f"Permission denied while {what}: {exc}")
    return BackendUnavailable(f"I/O error while {what}: {exc}")


class Cache:
    """Objects under ``root/objects``; temporary files under ``root/tmp``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self._ready = False

    def ensure(self) -> None:
        if self._ready:
            return
        try:
            self.tmp.mkdir(parents=True, exist_ok=True)
            for a in _HEX:
                for b in _HEX:
                    (self.objects / (a + b)).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise disk_error(exc, f"creating the cache at {self.root}") from exc
        self._ready = True

    def path(self, digest: str) -> str:
        if len(digest) != 64 or any(c not in _HEX for c in digest):
            raise InvalidParameter(f"{digest!r} is not a BLAKE3 object name")
        return f"{self.objects}/{digest[:2]}/{digest[2:]}"

    def has(self, digest: str) -> bool:
        return os.path.exists(self.path(digest))

    def tmp_path(self) -> str:
        return f"{self.tmp}/{uuid.uuid4().hex}"

    def commit(self, tmp: str, digest: str) -> None:
        """Move a complete temporary file into place as object ``digest``."""
        os.replace(tmp, self.path(digest))

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its name."""
        digest = blake3(data).hexdigest()
        if not self.has(digest):
            self.ensure()
            tmp = self.tmp_path()
            try:
                _write_new(tmp, data)
                self.commit(tmp, digest)
            except OSError as exc:
                _unlink(tmp)
                raise disk_error(exc, f"writing object {digest[:12]} into the cache") from exc
        return digest

    def read_bytes(self, digest: str) -> bytes:
        """An object's bytes, checked against its name (for small objects: manifests)."""
        with open(self.path(digest), "rb") as f:
            data = f.read()
        if blake3(data).hexdigest() != digest:
            raise OSError(errno.EIO, f"cache object {self.path(digest)} is corrupt")
        return data

    def add_file(self, path: str) -> tuple[str, int, bool]:
        """Hash the file at ``path`` and store a copy unless the cache has it.

        Reads the file once: what is stored is exactly what was hashed. Returns
        ``(digest, size, stored)``.
        """
        with open(path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            if size <= SMALL_FILE:
                data = f.read()
                digest = blake3(data).hexdigest()
                if self.has(digest):
                    return digest, len(data), False
                tmp = self.tmp_path()
                try:
                    _write_new(tmp, data)
                    self.commit(tmp, digest)
                except BaseException:
                    _unlink(tmp)
                    raise
                return digest, len(data), True
            return self._stream_in(f)

    def _stream_in(self, f) -> tuple[str, int, bool]:  # type: ignore[no-untyped-def]
        hasher = blake3()
        tmp = self.tmp_path()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        total = 0
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            try:
                while n := f.readinto(buf):
                    hasher.update(view[:n])
                    _write_all(fd, view[:n])
                    total += n
            finally:
                os.close(fd)
            digest = hasher.hexdigest()
            if self.has(digest):
                _unlink(tmp)
                return digest, total, False
            self.commit(tmp, digest)
            return digest, total, True
        except BaseException:
            _unlink(tmp)
            raise

    def verify(self, digest: str, size: int | None = None) -> bool:
        """True when the object exists and its bytes hash to its name."""
        from stead.data.hashing import hash_file

        try:
            got, got_size = hash_file(self.path(digest))
        except OSError:
            return False
        return got == digest and (size is None or got_size == size)

    def quarantine(self, digest: str) -> None:
        """Remove a corrupt object so that the next pull fetches it again."""
        _unlink(self.path(digest))

    def iter_objects(self):  # type: ignore[no-untyped-def]
        """Every object name in the cache."""
        if not self.objects.is_dir():
            return
        for sub in os.scandir(self.objects):
            if sub.is_dir() and len(sub.name) == 2:
                for entry in os.scandir(sub.path):
                    yield sub.name + entry.name


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _write_new(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

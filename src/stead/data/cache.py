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
import itertools
import os
import re
from collections.abc import Iterable
from pathlib import Path

from blake3 import blake3

from stead.data.hashing import hash_open
from stead.errors import BackendUnavailable, InvalidParameter

__all__ = ["Cache", "disk_error", "copy_into", "copy_verified", "KERNEL_COPY"]

KERNEL_COPY = 64 << 10  # larger files are copied by the kernel after hashing

_HEX = "0123456789abcdef"
_RUN = os.urandom(4).hex()  # with the pid and a counter: unique temporary names, no syscall each
_tmp_counter = itertools.count()


def unique_suffix() -> str:
    return f"{os.getpid()}-{_RUN}-{next(_tmp_counter)}"
_NAME = re.compile("[0-9a-f]{64}").fullmatch


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
        if not _NAME(digest):
            raise InvalidParameter(f"{digest!r} is not a BLAKE3 object name")
        return f"{self.objects}/{digest[:2]}/{digest[2:]}"

    def has(self, digest: str) -> bool:
        return os.path.exists(self.path(digest))

    def missing(self, digests: Iterable[str]) -> set[str]:
        """The names in ``digests`` that the cache lacks: a stat each for a few, a listing
        of the object folders for many (one ``scandir`` per folder beats thousands of stats)."""
        want = set(digests)
        if len(want) < 2000:
            return {d for d in want if not self.has(d)}
        have: set[str] = set()
        for sub in {d[:2] for d in want}:
            try:
                with os.scandir(f"{self.objects}/{sub}") as it:
                    have.update(sub + e.name for e in it)
            except FileNotFoundError:
                continue
        return want - have

    def tmp_path(self) -> str:
        """A new temporary file name: this process's prefix and a counter (no syscall)."""
        return f"{self.tmp}/{unique_suffix()}"

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

        A small file is read once and what is stored is exactly what was hashed. A larger
        one is hashed as it is read, then copied by the kernel (``copy_file_range``: on
        these machines three times faster than writing from Python); a change to the file
        meanwhile (its size or mtime moved) fails the add instead of storing other bytes.
        Returns ``(digest, size, stored)``.
        """
        with open(path, "rb", buffering=0) as f:
            fd = f.fileno()
            before = os.fstat(fd)
            if before.st_size <= KERNEL_COPY:
                data = os.read(fd, before.st_size + 1)
                if len(data) > before.st_size:  # it grew meanwhile: read it all
                    data += f.read()
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
            digest, size = hash_open(f, before.st_size)
            if self.has(digest):
                return digest, size, False
            tmp = self.tmp_path()
            try:
                copied = copy_into(fd, tmp, size)
                after = os.fstat(fd)
                if copied != size or (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                    raise OSError(errno.EAGAIN, f"{path} changed while it was being added; run it again")
                self.commit(tmp, digest)
            except BaseException:
                _unlink(tmp)
                raise
            return digest, size, True

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


def copy_into(src_fd: int, dst: str, size: int) -> int:
    """Copy ``size`` bytes from the start of ``src_fd`` into a new read-only file ``dst``,
    in the kernel (``copy_file_range``, else ``sendfile``); return the bytes copied."""
    out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    done = 0
    try:
        try:
            while done < size:
                n = os.copy_file_range(src_fd, out, size - done, done, done)
                if n == 0:
                    break
                done += n
            return done
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM):
                raise
        os.lseek(out, done, os.SEEK_SET)
        while done < size:
            n = os.sendfile(out, src_fd, done, size - done)
            if n == 0:
                break
            done += n
        return done
    finally:
        os.close(out)


def copy_verified(src: str, dst: str, digest: str, size: int | None) -> bool:
    """Hash ``src`` and, only if it is object ``digest`` (of ``size`` bytes), copy it to a
    new file ``dst`` (from the same open file, so a rename over ``src`` cannot interfere).
    False, and nothing written, when it does not match."""
    with open(src, "rb", buffering=0) as f:
        got, got_size = hash_open(f, os.fstat(f.fileno()).st_size)
        if got != digest or (size is not None and got_size != size):
            return False
        if got_size <= KERNEL_COPY:
            f.seek(0)
            _write_new(dst, f.read())
            return True
        return copy_into(f.fileno(), dst, got_size) == got_size


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

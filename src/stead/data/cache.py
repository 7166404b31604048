"""The content-addressed cache: ``<home>/cache/objects/ab/cdef...`` named by BLAKE3.

Every object is written to a dotted temporary file beside its final name
(``objects/ab/.<unique>.tmp``) and renamed into place once complete, so an object that
exists is whole: a killed process leaves at most a temporary file, which ``gc`` removes.
The rename stays within one folder: a rename across folders takes the file system's rename
lock, which serialised parallel writers (an add of 20,000 small files spent a third of its
time there). Identical content is stored once, across files, data sets and versions.
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

__all__ = ["Cache", "is_object_name", "disk_error", "copy_into", "copy_verified", "copy_plain", "write_plain", "KERNEL_COPY"]

KERNEL_COPY = 64 << 10  # larger files are copied by the kernel after hashing

_HEX = "0123456789abcdef"
_RD = os.O_RDONLY | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
# With a counter: unique temporary names without a syscall each (a fork gets its own prefix).
_prefix = [f"{os.getpid()}-{os.urandom(4).hex()}"]
_tmp_counter = itertools.count()
os.register_at_fork(after_in_child=lambda: _prefix.__setitem__(0, f"{os.getpid()}-{os.urandom(4).hex()}"))


def unique_suffix() -> str:
    return f"{_prefix[0]}-{next(_tmp_counter)}"


# An object's name: its BLAKE3 hash in lower-case hex (also what a pointer, manifest or
# version record from elsewhere must name).
is_object_name = re.compile("[0-9a-f]{64}").fullmatch


def disk_error(exc: OSError, what: str) -> BackendUnavailable:
    """One clear line for a failed write (a full disk above all)."""
    if exc.errno == errno.ENOSPC:
        return BackendUnavailable(f"No space left on the device while {what}; free some space and run it again")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return BackendUnavailable(f"Permission denied while {what}: {exc}")
    return BackendUnavailable(f"I/O error while {what}: {exc}")


class Cache:
    """Objects under ``root/objects``, their temporary files beside them (``root/tmp`` is
    where earlier releases put them; ``gc`` still empties it)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self._objects = str(self.objects)
        self._tmp = str(self.tmp)
        self._ready = False

    def ensure(self) -> None:
        if self._ready:
            return
        try:
            self.objects.mkdir(parents=True, exist_ok=True)
            present = set(os.listdir(self._objects))
            for a in _HEX:
                for b in _HEX:
                    if a + b not in present:
                        os.makedirs(f"{self._objects}/{a}{b}", exist_ok=True)
        except OSError as exc:
            raise disk_error(exc, f"creating the cache at {self.root}") from exc
        self._ready = True

    def path(self, digest: str) -> str:
        if not is_object_name(digest):
            raise InvalidParameter(f"{digest!r} is not a BLAKE3 object name")
        return f"{self._objects}/{digest[:2]}/{digest[2:]}"

    def has(self, digest: str) -> bool:
        try:
            os.stat(self.path(digest))
        except FileNotFoundError:
            return False
        return True

    def missing(self, digests: Iterable[str]) -> set[str]:
        """The names in ``digests`` that the cache lacks: a stat each for a few, a listing
        of the object folders for many (one ``scandir`` per folder beats thousands of stats)."""
        want = set(digests)
        if len(want) < 2000:
            return {d for d in want if not self.has(d)}
        have: set[str] = set()
        for sub in {d[:2] for d in want}:
            try:
                have.update(sub + name for name in os.listdir(f"{self._objects}/{sub}"))
            except FileNotFoundError:
                continue
        return want - have

    def listing_if_cheap(self, wanted: int) -> set[str] | None:
        """Every object name, when listing the cache costs less than ``wanted`` stats (the
        cache holds at most a few times as many objects); else None. One folder's size
        estimates the whole (names are uniformly spread)."""
        if wanted < 1000:
            return None
        try:
            estimate = len(os.listdir(f"{self._objects}/00")) * 256
        except FileNotFoundError:
            return set()
        if estimate > 4 * wanted:
            return None
        return set(self.iter_objects())

    def tmp_path(self, digest: str) -> str:
        """A new temporary file name beside object ``digest``: this process's prefix and a
        counter (no syscall); the leading dot keeps it out of every listing of objects."""
        return f"{self._objects}/{digest[:2]}/.{unique_suffix()}.tmp"

    def iter_temporaries(self) -> Iterable[str]:
        """Paths of temporary files, complete or abandoned (``gc`` removes old ones)."""
        for folder in (self._tmp, *(f"{self._objects}/{a}{b}" for a in _HEX for b in _HEX)):
            try:
                names = os.listdir(folder)
            except FileNotFoundError:
                continue
            yield from (f"{folder}/{name}" for name in names if folder == self._tmp or name.startswith("."))

    def commit(self, tmp: str, digest: str) -> None:
        """Move a complete temporary file into place as object ``digest``."""
        os.replace(tmp, self.path(digest))

    def store_bytes(self, digest: str, data: bytes) -> None:
        """Write ``data`` (which hashes to ``digest``) as an object, atomically."""
        tmp = self.tmp_path(digest)
        try:
            _write_new(tmp, data)
            os.replace(tmp, f"{self._objects}/{digest[:2]}/{digest[2:]}")
        except BaseException:
            _unlink(tmp)
            raise

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its name."""
        digest = blake3(data).hexdigest()
        if not self.has(digest):
            self.ensure()
            tmp = self.tmp_path(digest)
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

    def add_file(
        self, path: str, st: os.stat_result | None = None, have: set[str] | None = None
    ) -> tuple[str, int, bool]:
        """Hash the file at ``path`` and store a copy unless the cache has it.

        A small file is read once and what is stored is exactly what was hashed. A larger
        one is hashed as it is read, then copied by the kernel (``copy_file_range``: on
        these machines three times faster than writing from Python); a change to the file
        meanwhile (its size or mtime moved) fails the add instead of storing other bytes.
        ``st`` is the file's stat when the caller has it (a small file is then read without
        another); ``have`` the cache's object names when the caller listed them.
        Returns ``(digest, size, stored)``.
        """
        fd = os.open(path, _RD)
        try:
            if st is None or st.st_size <= KERNEL_COPY:
                data = os.read(fd, KERNEL_COPY + 1)
                if len(data) <= KERNEL_COPY:
                    digest = blake3(data).hexdigest()
                    if digest in have if have is not None else self.has(digest):
                        return digest, len(data), False
                    self.store_bytes(digest, data)
                    return digest, len(data), True
                os.lseek(fd, 0, os.SEEK_SET)
            before = os.fstat(fd)
            with open(fd, "rb", buffering=0, closefd=False) as f:
                digest, size = hash_open(f, before.st_size)
            if digest in have if have is not None else self.has(digest):
                return digest, size, False
            tmp = self.tmp_path(digest)
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
        finally:
            os.close(fd)

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
                for name in os.listdir(sub.path):
                    if not name.startswith("."):
                        yield sub.name + name


def copy_into(src_fd: int, dst: str, size: int, mode: int = 0o444) -> int:
    """Copy ``size`` bytes from the start of ``src_fd`` into a new file ``dst`` (read-only
    unless ``mode`` says otherwise), in the kernel (``copy_file_range``, else ``sendfile``);
    return the bytes copied."""
    out = os.open(dst, _NEW, mode)
    try:
        return _kernel_copy(src_fd, out, size)
    finally:
        os.close(out)


def _kernel_copy(src_fd: int, out: int, size: int) -> int:
    done = 0
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


def copy_verified(
    src: str, dst: str, digest: str, size: int | None, keep: "dict[str, bytes] | None" = None, mode: int = 0o444
) -> bool:
    """Hash ``src`` and, only if it is object ``digest`` (of ``size`` bytes), copy it to a
    new file ``dst`` (from the same open file, so a rename over ``src`` cannot interfere).
    False, and nothing written, when it does not match; ``FileNotFoundError`` when ``src``
    does not exist. A small file is read once: what is written is what was hashed (and,
    with ``keep``, kept there under its name for the caller to write again). The copy is
    read-only (a cache or remote object) unless ``mode`` says otherwise (a checkout)."""
    fd = os.open(src, _RD)
    try:
        data = os.read(fd, KERNEL_COPY + 1)
        if len(data) <= KERNEL_COPY:
            if blake3(data).hexdigest() != digest or (size is not None and len(data) != size):
                return False
            _write_new(dst, data, mode)
            if keep is not None:
                keep[digest] = data
            return True
        os.lseek(fd, 0, os.SEEK_SET)
        with open(fd, "rb", buffering=0, closefd=False) as f:
            got, got_size = hash_open(f, os.fstat(fd).st_size)
        if got != digest or (size is not None and got_size != size):
            return False
        return copy_into(fd, dst, got_size, mode) == got_size
    finally:
        os.close(fd)


def write_plain(dst: str, data: bytes) -> os.stat_result:
    """Write ``data`` to a new file ``dst``; its stat, taken before closing it."""
    out = os.open(dst, _NEW, 0o666)
    try:
        _write_all(out, data)
        return os.fstat(out)
    finally:
        os.close(out)


def copy_plain(src: str, dst: str) -> os.stat_result:
    """Copy ``src`` to a new file ``dst`` (the object was verified moments ago); return the
    stat of ``dst``, taken before closing it (a rename keeps inode, size and mtime)."""
    fd = os.open(src, _RD)
    try:
        data = os.read(fd, KERNEL_COPY + 1)
        out = os.open(dst, _NEW, 0o666)
        try:
            if len(data) <= KERNEL_COPY:
                _write_all(out, data)
            else:
                _kernel_copy(fd, out, os.fstat(fd).st_size)
            return os.fstat(out)
        finally:
            os.close(out)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _write_new(path: str, data: bytes, mode: int = 0o444) -> None:
    fd = os.open(path, _NEW, mode)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

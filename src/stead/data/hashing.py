"""BLAKE3 hashing of files: streamed, in parallel, never a whole large file in memory.

BLAKE3 rather than MD5 (DVC) or SHA-256: it is a cryptographic hash (no practical
collisions, so a name is a proof of content), it is several times faster than both on
one core, and the ``blake3`` module releases the GIL while hashing, so a thread pool
hashes several files at once and one large file uses every core.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from blake3 import blake3

__all__ = ["hash_bytes", "hash_file", "hash_files", "workers", "CHUNK", "SMALL_FILE"]

CHUNK = 1 << 20  # bytes read at a time when streaming
SMALL_FILE = 4 << 20  # files up to this size are read in one call
_BIG_FILE = 64 << 20  # files from this size are hashed with BLAKE3's own threads


def workers(io_bound: bool = False) -> int:
    """Threads for a pool: the cores, or more when the work mostly waits on I/O."""
    cores = os.cpu_count() or 2
    return min(32, cores * 4) if io_bound else max(2, cores)


def hash_bytes(data: bytes | memoryview) -> str:
    return blake3(data).hexdigest()


def hash_file(path: str) -> tuple[str, int]:
    """(hex digest, size) of the file at ``path``, read in chunks."""
    with open(path, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        if size <= SMALL_FILE:
            data = f.read()
            return blake3(data).hexdigest(), len(data)
        hasher = blake3(max_threads=blake3.AUTO) if size >= _BIG_FILE else blake3()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        total = 0
        while n := f.readinto(buf):
            hasher.update(view[:n])
            total += n
        return hasher.hexdigest(), total


def hash_files(
    paths: Iterable[str], fn: Callable[[str], tuple[str, int]] = hash_file, threads: int | None = None
) -> Iterator[tuple[str, tuple[str, int] | BaseException]]:
    """Yield ``(path, (digest, size))`` or ``(path, error)`` for each path, hashed in parallel."""
    todo = list(paths)
    if len(todo) <= 1:
        for p in todo:
            yield p, _safe(fn, p)
        return
    with ThreadPoolExecutor(max_workers=threads or workers()) as pool:
        yield from zip(todo, pool.map(lambda p: _safe(fn, p), todo, chunksize=16))


def _safe(fn: Callable[[str], tuple[str, int]], path: str) -> tuple[str, int] | BaseException:
    try:
        return fn(path)
    except OSError as exc:
        return exc

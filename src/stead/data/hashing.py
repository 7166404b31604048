"""BLAKE3 hashing of files: streamed, in parallel, never a whole large file in memory.

BLAKE3 rather than MD5 (DVC) or SHA-256: it is a cryptographic hash (no practical
collisions, so a name is a proof of content), it is several times faster than both on
one core, and the ``blake3`` module releases the GIL while hashing, so a thread pool
hashes several files at once and one large file uses every core.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import BinaryIO, TypeVar

from blake3 import blake3

__all__ = ["hash_bytes", "hash_file", "hash_open", "hash_files", "parallel_map", "workers", "CHUNK", "SMALL_FILE"]

T = TypeVar("T")
R = TypeVar("R")

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
        return hash_open(f, os.fstat(f.fileno()).st_size)


def hash_open(f: BinaryIO, size: int) -> tuple[str, int]:
    """(hex digest, bytes read) of an open file of about ``size`` bytes, from its position."""
    if size <= SMALL_FILE:
        data = f.read()
        return blake3(data).hexdigest(), len(data)
    hasher = blake3(max_threads=blake3.AUTO) if size >= _BIG_FILE else blake3()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    while n := f.readinto(buf):  # type: ignore[attr-defined]
        hasher.update(view[:n])
        total += n
    return hasher.hexdigest(), total


def hash_files(
    paths: Iterable[str], fn: Callable[[str], tuple[str, int]] = hash_file, threads: int | None = None
) -> Iterator[tuple[str, tuple[str, int] | BaseException]]:
    """Yield ``(path, (digest, size))`` or ``(path, error)`` for each path, hashed in parallel."""
    todo = list(paths)
    yield from zip(todo, parallel_map(lambda p: _safe(fn, p), todo, threads or workers()))


def parallel_map(fn: Callable[[T], R], items: Sequence[T], threads: int) -> Iterator[R]:
    """``fn`` over ``items`` in ``threads`` threads, results in order.

    Items go to the threads in batches (up to 64), so that tens of thousands of small
    files cost a few hundred tasks rather than one future, lock and wake-up each.
    """
    if len(items) <= 1 or threads <= 1:
        yield from map(fn, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    size = max(1, min(64, len(items) // (threads * 8)))
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for done in pool.map(lambda batch: [fn(x) for x in batch], batches):
            yield from done


def _safe(fn: Callable[[str], tuple[str, int]], path: str) -> tuple[str, int] | BaseException:
    try:
        return fn(path)
    except OSError as exc:
        return exc

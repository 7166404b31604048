"""``pull``: fetch the objects of some manifests from a remote into the cache.

Only objects the cache lacks are fetched, in parallel, each into a temporary file beside its final name while being
hashed, and renamed into the cache only when its hash and size match its name: a corrupt
or truncated remote object is reported by its remote path and never enters the cache.
"""

from __future__ import annotations

import os

from blake3 import blake3

from stead.data.cache import KERNEL_COPY, Cache, _unlink, _write_all, copy_verified
from stead.data.hashing import CHUNK
from stead.data.remotes import LocalRemote, Remote
from stead.data.transfer import NullProgress, Progress, TransferResult, run_parallel

__all__ = ["pull", "fetch_one", "KEEP_BYTES"]

KEEP_BYTES = 256 << 20


def fetch_one(
    cache: Cache, remote: Remote, digest: str, size: int | None, keep: dict[str, bytes] | None = None
) -> tuple[str, str] | None:
    """Fetch one object into the cache; a failure is ``(remote path, reason)``. With
    ``keep``, a small object from a local remote is also kept there (see ``pull``)."""
    cache.ensure()
    tmp = cache.tmp_path(digest)
    hasher = blake3()
    total = 0
    placed = False
    try:
        if isinstance(remote, LocalRemote):  # read once and hashed, or hashed then copied by the kernel
            where = remote.location(digest)
            try:
                ok = copy_verified(where, tmp, digest, size, keep)
            except FileNotFoundError:
                return where, "missing from the remote (push it from a machine that has it)"
            if not ok:
                what = "truncated" if size is not None and os.stat(where).st_size < size else "corrupt"
                return where, f"{what} on the remote (its bytes do not match its name); not used"
            cache.commit(tmp, digest)
            placed = True
            return None
        try:
            src = remote.open_object(digest)
        except FileNotFoundError:
            return remote.location(digest), "missing from the remote (push it from a machine that has it)"
        with src:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            try:
                while chunk := src.read(CHUNK):
                    hasher.update(chunk)
                    _write_all(fd, chunk)
                    total += len(chunk)
            finally:
                os.close(fd)
        if hasher.hexdigest() != digest or (size is not None and total != size):
            what = "truncated" if size is not None and total < size else "corrupt"
            return remote.location(digest), f"{what} on the remote (its bytes do not match its name); not used"
        cache.commit(tmp, digest)
        placed = True
        return None
    finally:
        if not placed:
            _unlink(tmp)


def pull(
    cache: Cache,
    remote: Remote,
    objects: dict[str, int | None],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Fetch ``objects`` (name -> size, None if unknown) that the cache lacks."""
    cache.ensure()
    result = TransferResult(remote.url)
    lacking = cache.missing(objects)
    missing = {d: s for d, s in objects.items() if d in lacking}
    result.already_there = len(objects) - len(missing)
    # Small objects are kept in memory (up to KEEP_BYTES in all) so that the checkout after
    # the pull writes them without reading them back from the cache.
    small = sum(s or 0 for s in missing.values() if (s or 0) <= KERNEL_COPY)
    keep: dict[str, bytes] | None = result.fetched if small <= KEEP_BYTES else None
    run_parallel(
        sorted(missing.items(), key=lambda kv: -(kv[1] or 0)),  # type: ignore[arg-type]
        lambda d, s: fetch_one(cache, remote, d, s, keep),
        result,
        progress or NullProgress(),
        jobs or remote.jobs,
    )
    return result

"""``pull``: fetch the objects of some manifests from a remote into the cache.

Only objects the cache lacks are fetched, in parallel, each into ``cache/tmp`` while being
hashed, and renamed into the cache only when its hash and size match its name: a corrupt
or truncated remote object is reported by its remote path and never enters the cache.
"""

from __future__ import annotations

import os

from blake3 import blake3

from stead.data.cache import Cache
from stead.data.hashing import CHUNK, workers
from stead.data.remotes import Remote
from stead.data.transfer import NullProgress, Progress, TransferResult, run_parallel

__all__ = ["pull", "fetch_one"]


def fetch_one(cache: Cache, remote: Remote, digest: str, size: int | None) -> tuple[str, str] | None:
    """Fetch one object into the cache; a failure is ``(remote path, reason)``."""
    cache.ensure()
    tmp = cache.tmp_path()
    hasher = blake3()
    total = 0
    try:
        try:
            src = remote.open_object(digest)
        except FileNotFoundError:
            return remote.location(digest), "missing from the remote (push it from a machine that has it)"
        with src, open(tmp, "wb", buffering=0) as out:
            while chunk := src.read(CHUNK):
                hasher.update(chunk)
                out.write(chunk)
                total += len(chunk)
        if hasher.hexdigest() != digest or (size is not None and total != size):
            what = "truncated" if size is not None and total < size else "corrupt"
            return remote.location(digest), f"{what} on the remote (its bytes do not match its name); not used"
        os.chmod(tmp, 0o444)
        cache.commit(tmp, digest)
        return None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
    missing = {d: s for d, s in objects.items() if not cache.has(d)}
    result.already_there = len(objects) - len(missing)
    run_parallel(
        sorted(missing.items(), key=lambda kv: -(kv[1] or 0)),  # type: ignore[arg-type]
        lambda d, s: fetch_one(cache, remote, d, s),
        result,
        progress or NullProgress(),
        jobs or workers(True),
    )
    return result

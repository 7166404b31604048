"""``push``: send the cache objects of some manifests to a remote.

Only objects the remote lacks are sent, in parallel. Each is hashed as it is read, so a
corrupt cache object is reported (and removed from the cache) instead of being pushed;
each lands atomically, so a killed push leaves whole objects only and a re-run sends the rest.
"""

from __future__ import annotations

from collections.abc import Iterable

from stead.data.cache import Cache
from stead.data.remotes import CorruptObject, Remote
from stead.data.transfer import NullProgress, Progress, TransferResult, run_parallel

__all__ = ["push"]


def push(
    cache: Cache,
    remote: Remote,
    objects: dict[str, int],
    *,
    manifests: Iterable[str] = (),
    jobs: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Send ``objects`` (name -> size) that ``remote`` lacks. Manifests go last, so a
    remote never holds a manifest whose files it lacks."""
    result = TransferResult(remote.url)
    have = remote.list_objects()
    missing = {d: s for d, s in objects.items() if d not in have}
    result.already_there = len(objects) - len(missing)

    def send(digest: str, size: int | None) -> tuple[str, str] | None:
        src = cache.path(digest)
        try:
            remote.upload(src, digest)
        except FileNotFoundError:
            return src, "missing from the cache (run `stead data add` or pull it from another remote)"
        except CorruptObject:
            cache.quarantine(digest)
            return src, "corrupt in the cache (its bytes do not match its name); removed from the cache"
        return None

    run_parallel(_ordered(missing, manifests), send, result, progress or NullProgress(), jobs or remote.jobs)
    return result


def _ordered(objects: dict[str, int], manifests: Iterable[str]) -> list[tuple[str, int]]:
    last = set(manifests)
    return sorted(objects.items(), key=lambda kv: (kv[0] in last, -kv[1]))

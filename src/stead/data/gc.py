"""``gc``: remove cache objects that no data set version and no pointer file refers to.

What is kept: every object of every version recorded in the metadata store, and of every
pointer file in the project (a version pulled from a clone may not be in this store).
Temporary files left by killed processes and state entries of vanished files go too.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from stead.data.cache import Cache
from stead.data.state import State

__all__ = ["gc", "GcResult"]

_TMP_GRACE_S = 3600  # a temporary file this old belongs to no living process


@dataclass(frozen=True)
class GcResult:
    removed: int
    removed_bytes: int
    kept: int
    tmp_removed: int

    def to_json(self) -> dict[str, int]:
        return {"removed": self.removed, "bytes": self.removed_bytes, "kept": self.kept, "tmp_removed": self.tmp_removed}


def gc(cache: Cache, keep: set[str], state: State | None = None, *, dry_run: bool = False) -> GcResult:
    """Delete every object of ``cache`` not named in ``keep``."""
    removed = removed_bytes = kept = 0
    for digest in list(cache.iter_objects()):
        if digest in keep:
            kept += 1
            continue
        path = cache.path(digest)
        try:
            size = os.stat(path).st_size
            if not dry_run:
                os.unlink(path)
        except FileNotFoundError:
            continue
        removed += 1
        removed_bytes += size
    tmp_removed = 0
    if not dry_run:
        cutoff = time.time() - _TMP_GRACE_S
        for path in cache.iter_temporaries():
            try:
                if os.stat(path).st_mtime < cutoff:
                    os.unlink(path)
                    tmp_removed += 1
            except FileNotFoundError:
                pass
    if state is not None and not dry_run:
        state.forget_missing()
    return GcResult(removed, removed_bytes, kept, tmp_removed)

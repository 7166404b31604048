"""The metadata store pipelines record into: one per process and store URL.

The runner, the executors that read step records back (Kubernetes), the scheduler and
the CLI all open it here, so a process opens and migrates each store once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.store.engine import Store

__all__ = ["open_pipeline_store"]

_STORES: dict[str, "Store"] = {}
_lock = threading.Lock()


def open_pipeline_store(settings: "Settings") -> "Store":
    """The metadata store of ``settings`` (opened and migrated once per process)."""
    url = settings.resolved_store_url
    with _lock:
        store = _STORES.get(url)
        if store is None:
            from stead.store import open_store

            store = _STORES[url] = open_store(url)
    return store

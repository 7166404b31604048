"""The metadata store: SQLAlchemy Core tables on SQLite or PostgreSQL, migrated by Alembic.

``import stead.store`` is light (SQLAlchemy loads with the first engine), so the modules
that work with the standard library alone (``fresh``, ``revisions``) stay cheap to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead._lazy import lazy_exports

_LAZY = {
    "Store": "stead.store.engine",
    "create_store_engine": "stead.store.engine",
    "open_store": "stead.store.open",
}

__all__ = ["Store", "open_store", "create_store_engine"]

if TYPE_CHECKING:
    from stead.store.engine import Store, create_store_engine
    from stead.store.open import open_store

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

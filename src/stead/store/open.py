"""Opening a metadata store: the engine, and on first use the store's file and its schema.

A new SQLite file is made from the shipped schema (``stead.store.fresh``, no Alembic); any
other store is brought to this stead's schema by ``stead.store.migrate``.
"""

from __future__ import annotations

import functools

from stead.errors import BackendUnavailable
from stead.store.engine import Store, create_store_engine, sqlite_file

__all__ = ["open_store"]


@functools.lru_cache(maxsize=1)
def _require_sqlite_json() -> None:
    """The SQLite store reads runs through SQLite's JSON functions; refuse a build without them."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("SELECT json_group_object(key, value) FROM json_each('[1]')").fetchone()
    except sqlite3.OperationalError:
        raise BackendUnavailable(
            f"This Python's SQLite ({sqlite3.sqlite_version}) has no JSON functions, which a SQLite "
            "metadata store needs; use a Python linked with SQLite 3.38 or newer, or a postgresql:// store"
        ) from None
    finally:
        conn.close()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open (and on first use create and migrate) the metadata store at ``url``."""
    engine = create_store_engine(url)
    if engine.dialect.name == "sqlite":
        _require_sqlite_json()
        path = sqlite_file(engine.url.database)
        if path is not None:
            from stead.store.fresh import create_sqlite_store, private_file

            if migrate:
                create_sqlite_store(str(path))  # a new file: no Alembic needed
            private_file(path)  # still missing: SQLite would make it 0o644
    store = Store(engine)
    if migrate:
        from stead.store.migrate import ensure_schema

        ensure_schema(store)
    return store

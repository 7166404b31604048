"""The metadata store: SQLAlchemy Core tables on SQLite or PostgreSQL, migrated by Alembic."""

from stead.store.engine import Store, create_store_engine, open_store

__all__ = ["Store", "open_store", "create_store_engine"]

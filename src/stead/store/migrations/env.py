"""Alembic environment: migrations always run on a connection stead hands in."""

from alembic import context

from stead.store.migrate import load_all_tables
from stead.store.tables import metadata

load_all_tables()

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

"""Migrations create exactly the declared tables, run once, and refuse a newer database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stead.errors import SchemaTooNew
from stead.store import open_store
from stead.store.migrate import applied_revisions, current_revisions, expected_heads, load_all_tables
from stead.store.tables import metadata


def test_migrated_schema_matches_declared_tables(store_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = open_store(store_url)
    load_all_tables()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"migrations and tables disagree: {diff}"
    store.dispose()


def test_opening_twice_is_a_no_op(store_url):
    open_store(store_url).dispose()
    store = open_store(store_url)
    with store.engine.connect() as conn:
        assert expected_heads() <= applied_revisions(current_revisions(conn))
    store.dispose()


def test_newer_database_is_refused(store_url):
    store = open_store(store_url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES ('9999_from_the_future')"))
    store.dispose()
    with pytest.raises(SchemaTooNew, match="newer stead"):
        open_store(store_url)


def test_bad_store_url():
    from stead.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="unsupported database"):
        open_store("mysql://x@y/z")
    with pytest.raises(InvalidParameter, match="not a database URL"):
        open_store("::::")


def test_a_current_store_opens_without_importing_alembic(store_url):
    """The fast path: a current store is recognised from the migration files alone."""
    import subprocess
    import sys

    open_store(store_url).dispose()
    code = (
        "import sys; from stead.store import open_store; "
        f"open_store({store_url!r}).dispose(); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

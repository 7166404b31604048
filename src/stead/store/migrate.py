"""Applying Alembic migrations safely, automatically, once.

Each concept owns a migration branch (``core``, ``registry``, ``data``, ...); the store is
current when every branch head is applied. A database stamped with a revision this stead
does not know was migrated by a newer stead, and is refused rather than damaged.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from stead.errors import SchemaTooNew
from stead.store.engine import Store
from stead.store.revisions import MIGRATIONS, implies_all

__all__ = ["ensure_schema", "expected_heads", "current_revisions", "applied_revisions", "load_all_tables", "TABLE_MODULES"]

# Every module that defines tables on ``stead.store.tables.metadata``; each concept has
# its own migration branch under migrations/versions (branch label = concept name).
TABLE_MODULES = (
    "stead.store.tables",
    "stead.tracking.tables",
    "stead.server.tables",
    "stead.registry.tables",
    "stead.data.tables",
    "stead.pipelines.tables",
    "stead.serving.tables",
    "stead.monitoring.tables",
)


def load_all_tables() -> None:
    """Import every concept's table module that this install has."""
    import importlib

    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # a concept this install does not have (the package itself may be absent)
            if exc.name is None or not name.startswith(exc.name):
                raise


_PG_LOCK_KEY = 0x57EAD  # one advisory lock for every stead migration


def _alembic_config():  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@lru_cache(maxsize=1)
def _script_directory():  # type: ignore[no-untyped-def]
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def expected_heads() -> frozenset[str]:
    """The head revision of every branch this stead ships."""
    return frozenset(_script_directory().get_heads())


def _known_revisions() -> frozenset[str]:
    return frozenset(rev.revision for rev in _script_directory().walk_revisions())


def applied_revisions(current: frozenset[str]) -> frozenset[str]:
    """Every revision the stamped ones imply: Alembic stamps only the newest of a chain,
    and a branch that depends on another implies that one too."""
    script = _script_directory()
    known = _known_revisions()
    seen: set[str] = set()
    todo = [rev for rev in current if rev in known]
    while todo:
        rev_id = todo.pop()
        if rev_id in seen:
            continue
        seen.add(rev_id)
        revision = script.get_revision(rev_id)
        todo.extend(r for r in revision._all_down_revisions if r not in seen)
    return frozenset(seen)


def current_revisions(conn: Connection) -> frozenset[str]:
    from alembic.runtime.migration import MigrationContext

    return frozenset(MigrationContext.configure(conn).get_current_heads())


def _check_not_newer(store: Store, current: frozenset[str]) -> None:
    unknown = current - _known_revisions()
    if unknown:
        from stead import __version__

        raise SchemaTooNew(
            f"The metadata store {store.url} was migrated by a newer stead (revisions "
            f"{sorted(unknown)} are unknown to stead {__version__}). Upgrade stead: "
            "pip install -U stead"
        )


@contextlib.contextmanager
def _migration_lock(store: Store, conn: Connection) -> Iterator[None]:
    """Only one process migrates at a time; the others wait and then find nothing to do."""
    if store.dialect == "sqlite" and store.engine.url.database not in (None, "", ":memory:"):
        lock_path = Path(str(store.engine.url.database)).with_suffix(".migrate.lock")
        with lock_path.open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    elif store.dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()
    else:
        yield


def _is_current(conn: Connection) -> bool:
    """True when the stamped revisions imply every revision this stead ships (no Alembic needed)."""
    from sqlalchemy.exc import DBAPIError

    try:
        stamped = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:
        conn.rollback()
        return False
    conn.rollback()
    return implies_all(stamped)


def ensure_schema(store: Store) -> None:
    """Bring the store to this stead's schema, or refuse if the store is newer."""
    with store.engine.connect() as conn:
        if _is_current(conn):
            return
    heads = expected_heads()
    with store.engine.connect() as conn:
        current = current_revisions(conn)
        conn.rollback()
        _check_not_newer(store, current)
        if heads <= applied_revisions(current):
            return
        with _migration_lock(store, conn):
            current = current_revisions(conn)
            conn.rollback()
            _check_not_newer(store, current)
            if heads <= applied_revisions(current):
                return
            from alembic import command

            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            conn.commit()

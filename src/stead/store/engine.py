"""The metadata store's engine: one SQLAlchemy engine per URL, tuned per database.

Opening a store (creating and migrating it on first use) is ``stead.store.open`` above this.
SQLite runs in WAL mode so readers never block the writer, with a long busy timeout and
``BEGIN IMMEDIATE`` for writes so that concurrent writer processes queue instead of failing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from stead.errors import BackendUnavailable, InvalidParameter, MissingExtra

__all__ = ["Store", "create_store_engine", "sqlite_file"]

_SQLITE_BUSY_MS = 60_000


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level; transactions are begun explicitly in _sqlite_on_begin.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # Searches over many runs: a 64 MiB page cache, reads through mmap, sorts in memory.
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA mmap_size=268435456")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("stead_write") else "BEGIN")


def sqlite_file(database: str | None) -> Path | None:
    """The file of a SQLite store's database, or None (in memory, or a ``file:`` URI)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def create_store_engine(url: str) -> Engine:
    """Make an engine for ``url``; a missing database driver names its extra."""
    from sqlalchemy import create_engine

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidParameter(
            f"Store URL {url!r} is not a database URL; use sqlite:///path/stead.db or "
            "postgresql://user@host/db"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_file(parsed.database)
        if path is not None:
            from stead.store.fresh import private_parent

            private_parent(path)  # owner-only (see stead.store.fresh)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if backend == "postgresql":
        try:
            return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
        except (NoSuchModuleError, ModuleNotFoundError) as exc:
            raise MissingExtra("A PostgreSQL metadata store", "postgres") from exc
    raise InvalidParameter(
        f"Store URL {url!r} names an unsupported database {backend!r}; "
        "stead stores metadata in sqlite:/// or postgresql://"
    )


class Store:
    """The metadata store: an engine plus the two ways to use it (read, write)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for queries; on SQLite a deferred transaction (a consistent snapshot)."""
        try:
            with self.engine.connect() as conn:
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise BackendUnavailable(f"Metadata store {self.url} cannot be read: {exc.orig}") from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: everything in it lands together or not at all."""
        try:
            with self.engine.connect() as conn:
                conn.info["stead_write"] = True
                try:
                    with conn.begin():
                        yield conn
                finally:
                    conn.info.pop("stead_write", None)
        except OperationalError as exc:
            raise BackendUnavailable(f"Metadata store {self.url} cannot be written: {exc.orig}") from exc

    def dispose(self) -> None:
        self.engine.dispose()

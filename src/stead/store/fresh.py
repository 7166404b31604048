"""A new SQLite metadata store made from the shipped schema, without Alembic.

Migrating an empty SQLite file through Alembic costs about half a second (importing Alembic
and SQLAlchemy, then every migration), which a user pays on the first command of every new
project: the first ``stead data add``, the first start of ``stead server``. The schema those
migrations produce is shipped as ``schema_sqlite.sql`` (the ``CREATE`` statements as SQLite
recorded them, and the ``alembic_version`` stamps), and a missing store file is created from
it with the standard library alone. The result is the same database Alembic makes, which a
test checks statement by statement; later migrations apply to it as to any other store.

After changing a migration, regenerate the file: ``python -m stead.store.regenerate``.

A store file stead creates is readable by its owner only (0o600; SQLite gives its ``-wal``
and ``-shm`` files the same mode), and so is a folder it creates for it (0o700): the store
holds password hashes, token digests and everything tracked.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["SCHEMA_FILE", "create_sqlite_store", "private_parent", "private_file"]

SCHEMA_FILE = Path(__file__).with_name("schema_sqlite.sql")


def private_parent(path: str | Path) -> None:
    """Create the folders above ``path`` that are missing, each readable by its owner only."""
    parent = Path(path).parent
    missing = []
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass


def private_file(path: str | Path) -> bool:
    """Create ``path`` empty with mode 0o600 (SQLite treats an empty file as a new
    database); False when it exists already."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    return True


def create_sqlite_store(path: str) -> bool:
    """Create the store file ``path`` from the shipped schema; False, and nothing done, when
    the file exists already or no schema is shipped.

    The database is built under a temporary name and linked into place, so a concurrent
    command either sees no file or a whole, stamped one (if two race, one link wins and
    the other's copy is discarded).
    """
    if os.path.exists(path) or not SCHEMA_FILE.is_file():
        return False
    private_parent(path)
    tmp = f"{path}.{os.getpid()}-{os.urandom(4).hex()}.new"
    try:
        private_file(tmp)  # the link below keeps this inode, and so its mode
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(f"BEGIN;\n{SCHEMA_FILE.read_text()}\nCOMMIT;")
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        for leftover in (tmp, f"{tmp}-wal", f"{tmp}-shm"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass

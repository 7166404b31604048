"""Recording a version straight through ``sqlite3``, when the store is a current SQLite file.

``stead data add`` on an unchanged or slightly changed folder does well under 0.2 s of
work; importing SQLAlchemy to write one row would cost twice that. When the metadata store
is the embedded SQLite file and its schema is already current (every migration this stead
ships is applied), ``add`` writes the version with the standard library instead, with the
same statements, transaction discipline (``BEGIN IMMEDIATE``, so concurrent writers queue)
and result as ``stead.data.service.record_version``. A store that does not exist yet is
created from the shipped schema (``stead.store.fresh``). Anything else (PostgreSQL, a store
that needs migrating) goes through SQLAlchemy and Alembic as usual.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import replace
from typing import Any

from stead.data.manifest import Manifest
from stead.data.records import DatasetVersion
from stead.errors import BackendUnavailable
from stead.store.revisions import implies_all

__all__ = ["LiteStore", "open_lite", "run"]

_SUMMARY = (
    "SELECT d.name, v.version, v.manifest_hash, v.path, v.kind, v.num_files, v.num_bytes, v.user_id, "
    "v.run_id, v.message, v.creation_time FROM dataset_versions v JOIN datasets d ON d.dataset_id = v.dataset_id "
    "WHERE v.dataset_id = ? ORDER BY v.version DESC LIMIT 1"
)

_ONE = (
    "SELECT d.name, v.version, v.manifest_hash, v.path, v.kind, v.num_files, v.num_bytes, v.user_id, "
    "v.run_id, v.message, v.creation_time, v.profile FROM dataset_versions v JOIN datasets d "
    "ON d.dataset_id = v.dataset_id WHERE d.name = ? AND v.version = ?"
)


def _is_current(conn: sqlite3.Connection) -> bool:
    try:
        stamped = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.DatabaseError:
        return False
    return implies_all(stamped)


class LiteStore:
    """An open SQLite metadata store whose schema is current; only what ``add``, ``push``
    and ``pull`` need."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self.path = path

    def dispose(self) -> None:
        self._conn.close()

    # What push and pull need (``stead.data.service`` has the same functions).

    def remotes(self) -> tuple[dict[str, str], str | None]:
        rows = self._conn.execute("SELECT name, url, is_default FROM data_remotes ORDER BY name").fetchall()
        return {r[0]: r[1] for r in rows}, next((r[0] for r in rows if r[2]), None)

    def known_versions(self) -> set[tuple[str, int]]:
        return set(self._conn.execute(
            "SELECT d.name, v.version FROM dataset_versions v JOIN datasets d ON d.dataset_id = v.dataset_id"
        ).fetchall())

    def import_versions(self, items: list[tuple[DatasetVersion, Manifest]]) -> int:
        """``service.import_versions``: versions learnt from a remote, under their own numbers."""
        db = self._conn
        db.execute("BEGIN IMMEDIATE")
        done = 0
        try:
            for v, manifest in items:
                row = db.execute("SELECT dataset_id FROM datasets WHERE name = ?", (v.name,)).fetchone()
                dataset_id = row[0] if row is not None else db.execute(
                    "INSERT INTO datasets (name, description, creation_time, last_update_time) VALUES (?, '', ?, ?)",
                    (v.name, v.creation_time, v.creation_time),
                ).lastrowid
                done += db.execute(
                    "INSERT OR IGNORE INTO dataset_versions (dataset_id, version, manifest_hash, manifest, path, kind, "
                    "num_files, num_bytes, profile, user_id, run_id, message, creation_time) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (dataset_id, v.version, manifest.digest, manifest.to_bytes().decode(), v.path, v.kind,
                     manifest.num_files, manifest.num_bytes, json.dumps(v.profile) if v.profile else None, v.user_id,
                     v.run_id, v.message, v.creation_time),
                ).rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return done

    def versions_of(self, wanted: list[tuple[str, int]]) -> list[DatasetVersion]:
        out = []
        for name, version in wanted:
            row = self._conn.execute(_ONE, (name, version)).fetchone()
            if row is not None:
                out.append(replace(DatasetVersion(*row[:-1]), profile=json.loads(row[-1]) if row[-1] else None))
        return out

    def record_version(
        self,
        name: str,
        manifest: Manifest,
        *,
        path: str,
        kind: str,
        user_id: str,
        run_id: str | None = None,
        message: str = "",
        profile: dict[str, Any] | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Record a new version unless the latest one has the same manifest (``service.record_version``)."""
        db = self._conn
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise BackendUnavailable(f"Metadata store {self.path} cannot be written: {exc}") from exc
        try:
            now = int(time.time() * 1000)
            row = db.execute("SELECT dataset_id FROM datasets WHERE name = ?", (name,)).fetchone()
            latest = None
            if row is None:
                dataset_id = db.execute(
                    "INSERT INTO datasets (name, description, creation_time, last_update_time) VALUES (?, '', ?, ?)",
                    (name, now, now),
                ).lastrowid
            else:
                dataset_id = row[0]
                latest = db.execute(_SUMMARY, (dataset_id,)).fetchone()
            if latest is not None and latest[2] == manifest.digest:
                db.execute("COMMIT")
                return DatasetVersion(*latest), False
            version = (latest[1] if latest is not None else 0) + 1
            db.execute(
                "INSERT INTO dataset_versions (dataset_id, version, manifest_hash, manifest, path, kind, num_files, "
                "num_bytes, profile, user_id, run_id, message, creation_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (dataset_id, version, manifest.digest, manifest.to_bytes().decode(), path, kind, manifest.num_files,
                 manifest.num_bytes, json.dumps(profile) if profile else None, user_id, run_id, message, now),
            )
            db.execute("UPDATE datasets SET last_update_time = ? WHERE dataset_id = ?", (now, dataset_id))
            db.execute("COMMIT")
        except BaseException as exc:
            db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise BackendUnavailable(f"Metadata store {self.path} cannot be written: {exc}") from exc
            raise
        return DatasetVersion(name, version, manifest.digest, path, kind, manifest.num_files, manifest.num_bytes,
                              user_id, run_id, message, now, profile), True


def open_lite(url: str) -> LiteStore | None:
    """The store at ``url`` through ``sqlite3`` when it is an existing SQLite file with a
    current schema; None when it needs SQLAlchemy (another database, or a migration)."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = url.removeprefix("sqlite:///")
    if not path or path == ":memory:" or "%" in path or path.startswith(("file:", "~")):
        return None  # (a home-relative path is expanded by the SQLAlchemy path, as the store does)
    if not os.path.isfile(path):
        from stead.store.fresh import create_sqlite_store

        create_sqlite_store(path)  # a new project's store, from the shipped schema
        if not os.path.isfile(path):
            return None
    try:
        conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA foreign_keys=ON")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal" or not _is_current(conn):
            conn.close()
            return None
    except sqlite3.Error:
        conn.close()
        return None
    return LiteStore(conn, path)


def run(url: str, what: str, *args: Any) -> Any:
    """Run ``what`` (a method of ``LiteStore`` and a function of ``stead.data.service``
    alike: the reads of push and pull, and recording versions learnt from a remote) through
    ``sqlite3`` when the store allows, else through SQLAlchemy."""
    lite = open_lite(url)
    if lite is not None:
        try:
            return getattr(lite, what)(*args)
        finally:
            lite.dispose()
    from stead.data import service
    from stead.store import open_store

    store = open_store(url)
    try:
        return getattr(service, what)(store, *args)
    finally:
        store.dispose()

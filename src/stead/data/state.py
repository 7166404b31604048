"""The state table: (path, inode, size, mtime) -> hash, so an unchanged file is hashed once.

It lives in a SQLite file next to the cache (``<home>/cache/state.db``), like DVC's, and
not in the metadata store: it describes this machine's files (inodes and mtimes mean
nothing elsewhere), it is read on every ``status`` where a round trip to PostgreSQL or
even loading SQLAlchemy would cost more than the whole check, and losing it costs only
re-hashing. A file modified within the file system's timestamp granularity of being hashed
could keep its mtime, so an entry whose mtime is that close to its hashing time is
"racy" and is not trusted (git's rule); it is re-hashed and then trusted.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["State", "StateEntry", "RACY_NS"]

RACY_NS = 2_000_000_000  # two seconds: more than any file system's mtime granularity

StateEntry = tuple[int, int, int, str, int]  # inode, size, mtime_ns, hash, hashed_ns

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    path TEXT PRIMARY KEY,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL,
    hashed_ns INTEGER NOT NULL
) WITHOUT ROWID
"""


class State:
    """A small local SQLite database; one per cache."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def load(self, prefix: str) -> dict[str, StateEntry]:
        """Every entry whose path is ``prefix`` or below it."""
        if not self.path.exists():
            return {}
        prefix = prefix.rstrip("/")
        rows = self._db().execute(
            "SELECT path, inode, size, mtime_ns, hash, hashed_ns FROM state "
            "WHERE path = ? OR (path >= ? AND path < ?)",
            (prefix, prefix + "/", prefix + "0"),
        )
        return {r[0]: r[1:] for r in rows}

    def get_many(self, paths: list[str]) -> dict[str, StateEntry]:
        """The entries of ``paths`` (for a few files; ``load`` reads a whole folder)."""
        if not paths or not self.path.exists():
            return {}
        db = self._db()
        out: dict[str, StateEntry] = {}
        for i in range(0, len(paths), 500):
            chunk = paths[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for r in db.execute(
                f"SELECT path, inode, size, mtime_ns, hash, hashed_ns FROM state WHERE path IN ({marks})", chunk
            ):
                out[r[0]] = r[1:]
        return out

    def save(self, rows: Iterable[tuple[str, int, int, int, str]]) -> None:
        """Record ``(path, inode, size, mtime_ns, hash)`` rows, hashed now."""
        now = time.time_ns()
        batch = [(*r, now) for r in rows]
        if not batch:
            return
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?, ?, ?)", batch)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def forget_missing(self) -> int:
        """Drop entries of files that no longer exist; return how many."""
        if not self.path.exists():
            return 0
        db = self._db()
        gone = [(p,) for (p,) in db.execute("SELECT path FROM state") if not os.path.exists(p)]
        db.executemany("DELETE FROM state WHERE path = ?", gone)
        return len(gone)


def trusted(entry: StateEntry | None, st: os.stat_result) -> str | None:
    """The recorded hash when ``st`` matches the entry and the entry is not racy."""
    if entry is None:
        return None
    inode, size, mtime_ns, digest, hashed_ns = entry
    if inode != st.st_ino or size != st.st_size or mtime_ns != st.st_mtime_ns:
        return None
    if hashed_ns - mtime_ns < RACY_NS:
        return None
    return digest


def hash_tree(
    state: State,
    base: str,
    files: dict[str, os.stat_result],
    fn: Callable[[str], tuple[str, int]],
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, tuple[str, int]], dict[str, OSError], int]:
    """``relative path -> (hash, size)`` of ``files`` below ``base``, hashing only what the
    state does not vouch for, with ``fn`` (which may also store the file) in parallel.

    Returns the hashes, the files that could not be read, and how many were hashed.
    """
    from stead.data.hashing import hash_files

    if len(files) <= 2000:
        known = state.get_many([f"{base}/{rel}" for rel in files])
    else:
        known = state.load(base)
    out: dict[str, tuple[str, int]] = {}
    todo: list[str] = []
    done_bytes = 0
    for rel, st in files.items():
        digest = trusted(known.get(f"{base}/{rel}"), st)
        if digest is None:
            todo.append(rel)
        else:
            out[rel] = (digest, st.st_size)
            done_bytes += st.st_size
    if on_progress and out:
        on_progress(len(out), done_bytes)
    errors: dict[str, OSError] = {}
    rows: list[tuple[str, int, int, int, str]] = []
    try:
        for path, res in hash_files([f"{base}/{rel}" for rel in todo], fn):
            rel = path[len(base) + 1 :]
            if isinstance(res, BaseException):
                errors[rel] = res  # type: ignore[assignment]
                continue
            out[rel] = res
            st = files[rel]
            if st.st_size == res[1]:
                rows.append((path, st.st_ino, st.st_size, st.st_mtime_ns, res[0]))
            if on_progress:
                on_progress(1, res[1])
    finally:
        state.save(rows)
    return out, errors, len(todo)

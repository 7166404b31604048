"""The tree index: for each versioned folder, every file of its manifest with the
(inode, size, mtime) it had when it was last known to hold that content, like git's index.

``status`` of a clean folder then needs one stat per file and one row of SQLite: no
manifest to parse, no per-file state lookups, nothing hashed. A file whose stat differs
from its entry (or whose entry is "racy", see ``stead.data.state``) is looked up in the
state table and hashed if need be. The index is a cache: it is keyed by the manifest's
name, rebuilt by ``add``, ``checkout`` and a ``status`` that had to hash, and losing it
costs one slow ``status``. It lives in the state database (``<home>/cache/state.db``).
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import time
from collections.abc import Mapping

from stead.data.state import RACY_NS, State

__all__ = ["IndexEntry", "load_index", "load_hashes", "save_index", "unknown_files"]

IndexEntry = tuple[int, int, int]  # inode, size, mtime_ns; (-1, size, -1): verify again

# The hashes are a second blob, read only when some file's stat moved.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tree_index (
    base TEXT PRIMARY KEY,
    manifest TEXT NOT NULL,
    entries BLOB NOT NULL,
    hashes BLOB NOT NULL
)
"""


def _unmarshal(blob: bytes) -> dict | None:  # type: ignore[type-arg]
    try:
        value = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def load_index(state: State, base: str, manifest: str) -> dict[str, IndexEntry] | None:
    """The index of the data at ``base`` if it was made for ``manifest``; else None."""
    if not state.path.exists():
        return None
    try:
        db = state._db()
        db.execute(_SCHEMA)
        row = db.execute("SELECT manifest, entries FROM tree_index WHERE base = ?", (base,)).fetchone()
    except sqlite3.DatabaseError:
        return None  # an unreadable index is no index
    if row is None or row[0] != manifest:
        return None
    return _unmarshal(row[1])


def load_hashes(state: State, base: str, manifest: str) -> dict[str, str] | None:
    """``path -> hash`` of the index of ``base`` (the manifest's hashes)."""
    try:
        row = state._db().execute("SELECT manifest, hashes FROM tree_index WHERE base = ?", (base,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    return _unmarshal(row[1]) if row is not None and row[0] == manifest else None


def save_index(
    state: State,
    base: str,
    manifest: str,
    files: Mapping[str, tuple[str, int]],
    verified: Mapping[str, os.stat_result],
) -> None:
    """Record the index of ``base``: ``files`` is the manifest (path -> (hash, size)) and
    ``verified`` the stat of each file known to hold its manifest content right now."""
    trust_before = time.time_ns() - RACY_NS
    entries: dict[str, IndexEntry] = {}
    for rel, (_digest, size) in files.items():
        st = verified.get(rel)
        if st is not None and st.st_size == size and st.st_mtime_ns < trust_before:
            entries[rel] = (st.st_ino, size, st.st_mtime_ns)
        else:
            entries[rel] = (-1, size, -1)
    hashes = {rel: digest for rel, (digest, _size) in files.items()}
    row = (base, manifest, marshal.dumps(entries), marshal.dumps(hashes))
    db = state._db()
    try:
        db.execute(_SCHEMA)
        db.execute("INSERT OR REPLACE INTO tree_index (base, manifest, entries, hashes) VALUES (?, ?, ?, ?)", row)
    except sqlite3.OperationalError:  # made by another version of stead: it is only a cache
        db.execute("DROP TABLE IF EXISTS tree_index")
        db.execute(_SCHEMA)
        db.execute("INSERT OR REPLACE INTO tree_index (base, manifest, entries, hashes) VALUES (?, ?, ?, ?)", row)


def unknown_files(
    index: Mapping[str, IndexEntry], files: Mapping[str, os.stat_result]
) -> dict[str, os.stat_result]:
    """The files whose stat does not match their index entry (new files included)."""
    out: dict[str, os.stat_result] = {}
    get = index.get
    for rel, st in files.items():
        e = get(rel)
        if e is None or e[2] != st.st_mtime_ns or e[0] != st.st_ino or e[1] != st.st_size:
            out[rel] = st
    return out

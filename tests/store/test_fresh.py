"""A new SQLite store made from the shipped schema is the store Alembic's migrations make."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stead.store import open_store
from stead.store.fresh import SCHEMA_FILE, create_sqlite_store
from stead.store.regenerate import dump_schema, migrated_schema


def _catalog(path: Path) -> tuple[set[tuple[str, str, str, str]], list[str], str]:
    conn = sqlite3.connect(path)
    try:
        objects = set(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
        stamps = sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    return objects, stamps, mode


def test_shipped_schema_is_what_the_migrations_make(tmp_path: Path) -> None:
    assert SCHEMA_FILE.read_text() == migrated_schema(tmp_path), (
        "src/stead/store/schema_sqlite.sql is out of date with the migrations: run `python -m stead.store.regenerate`")


def test_store_made_from_the_schema_equals_the_migrated_one(tmp_path: Path) -> None:
    made = tmp_path / "made.db"
    assert create_sqlite_store(str(made))
    migrated_schema(tmp_path)  # leaves tmp_path / "migrated.db"
    made_objects, made_stamps, made_mode = _catalog(made)
    objects, stamps, _ = _catalog(tmp_path / "migrated.db")
    assert made_objects == objects and made_stamps == stamps and made_mode == "wal"
    assert dump_schema(str(made)) == SCHEMA_FILE.read_text()
    assert sorted(p.name for p in tmp_path.iterdir() if ".db" in p.name) == ["made.db", "migrated.db"]  # no temporaries


def test_a_new_store_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'stead.db'}"
    code = ("import sys; from stead.store import open_store; s = open_store(sys.argv[1]); "
            "c = s.engine.connect(); print(c.exec_driver_sql('SELECT count(*) FROM runs').scalar(), "
            "'alembic' in sys.modules); c.close(); s.dispose()")
    done = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "False"]
    open_store(url).dispose()  # and the migration check agrees that it is current


def test_an_existing_file_is_left_alone(tmp_path: Path) -> None:
    existing = tmp_path / "stead.db"
    existing.write_bytes(b"not a database")
    assert not create_sqlite_store(str(existing))
    assert existing.read_bytes() == b"not a database"


def test_racing_creators_make_one_store(tmp_path: Path) -> None:
    path = str(tmp_path / "stead.db")
    start = threading.Barrier(4)

    def create() -> bool:
        start.wait()
        return create_sqlite_store(path)

    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda _: create(), range(4)))
    assert made.count(True) <= 1 and Path(path).is_file()
    assert _catalog(Path(path))[1] == _catalog_stamps()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stead.db"]


def _catalog_stamps() -> list[str]:
    return sorted(line.split("'")[1] for line in SCHEMA_FILE.read_text().splitlines()
                  if line.startswith("INSERT INTO alembic_version"))

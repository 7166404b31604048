"""``stead.data.lite``: versions recorded through sqlite3 match SQLAlchemy's, a new store is
made from the shipped schema, and a store that is not current (unmigrated, migrated by a
newer stead) is never written by it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import stead.data
from data_files import make_files
from stead.data.lite import open_lite
from stead.data.manifest import Manifest
from stead.errors import SchemaTooNew


def test_lite_records_what_the_store_reads_back(local_project) -> None:
    make_files(Path.cwd() / "ds", {"a.bin": b"a"})
    stead.data.add("ds", settings=local_project)  # creates the store
    lite = open_lite(local_project.resolved_store_url)
    assert lite is not None
    m = Manifest.from_entries({"a.bin": ("a" * 64, 1), "b/c.bin": ("b" * 64, 2)})
    try:
        v, created = lite.record_version("ds", m, path="ds", kind="dir", user_id="ann", message="by hand",
                                         profile={"x.csv": {"rows": 1}})
        again, created_again = lite.record_version("ds", m, path="ds", kind="dir", user_id="bob")
        first, _ = lite.record_version("other", m, path="o", kind="dir", user_id="ann")
    finally:
        lite.dispose()
    assert created and v.version == 2 and not created_again and again.version == 2 and again.user_id == "ann"
    assert first.version == 1
    read = stead.data.get_version("ds@2", settings=local_project)
    assert read == v and read.profile == {"x.csv": {"rows": 1}}
    assert [d.name for d in stead.data.list_datasets(settings=local_project)] == ["ds", "other"]


def test_lite_creates_a_new_store_from_the_shipped_schema(tmp_path: Path) -> None:
    lite = open_lite(f"sqlite:///{tmp_path / 'home' / 'new.db'}")
    assert lite is not None
    lite.dispose()
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["new.db"]


def test_lite_refuses_stores_that_are_not_current(tmp_path: Path, local_project) -> None:
    assert open_lite("postgresql://postgres@127.0.0.1/test") is None
    bare = tmp_path / "bare.db"
    sqlite3.connect(bare).execute("PRAGMA journal_mode=WAL").fetchone()
    assert open_lite(f"sqlite:///{bare}") is None  # never migrated
    make_files(Path.cwd() / "ds", {"a.bin": b"a"})
    stead.data.add("ds", settings=local_project)
    url = local_project.resolved_store_url
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    db.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    db.commit()
    assert open_lite(url) is None
    (Path.cwd() / "ds" / "a.bin").write_bytes(b"b")
    with pytest.raises(SchemaTooNew):  # the SQLAlchemy path explains
        stead.data.add("ds", settings=local_project)
    db.execute("DELETE FROM alembic_version WHERE version_num IN ('9999_from_the_future', '0301_data_remotes')")
    db.commit()
    assert open_lite(url) is None  # the data branch is not applied: migrate first
    db.execute("INSERT INTO alembic_version VALUES ('0301_data_remotes')")
    db.commit()
    lite = open_lite(url)
    assert lite is not None
    lite.dispose()

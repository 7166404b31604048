"""A SQLite store stead creates is readable by its owner only, and so is a folder it creates."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stead.store import open_store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():  # type: ignore[no-untyped-def]
    old = os.umask(0o022)  # the common default, under which SQLite alone makes 0o644 files
    yield
    os.umask(old)


@pytest.mark.parametrize("migrate", [True, False])
def test_a_new_store_and_its_folders_are_owner_only(tmp_path: Path, migrate: bool) -> None:
    db = tmp_path / "new" / "home" / "stead.db"
    store = open_store(f"sqlite:///{db}", migrate=migrate)
    try:
        from sqlalchemy import text

        with store.write() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            conn.execute(text("INSERT INTO probe VALUES (1)"))
        with store.read() as conn:
            conn.execute(text("SELECT * FROM probe")).all()
        assert _mode(db) == 0o600
        for side in (db.with_name("stead.db-wal"), db.with_name("stead.db-shm")):
            if side.exists():
                assert _mode(side) == 0o600, side
        assert _mode(db.parent) == 0o700 and _mode(db.parent.parent) == 0o700
    finally:
        store.dispose()


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    store = open_store(f"sqlite:///{folder / 'stead.db'}")
    store.dispose()
    assert _mode(folder) == 0o755 and _mode(folder / "stead.db") == 0o600


def test_the_default_home_is_owner_only(tmp_path: Path) -> None:
    from stead.config import Settings
    from stead.tracking.client import TrackingClient

    client = TrackingClient(Settings(home=tmp_path / ".stead"))
    try:
        client.create_experiment("private")
    finally:
        client.close()
    assert _mode(tmp_path / ".stead") == 0o700 and _mode(tmp_path / ".stead" / "stead.db") == 0o600

"""Fixtures for data versioning: a project folder with its stead home, on each database,
and an S3 server (moto, 127.0.0.1, a free port) with a fresh bucket per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from s3_server import aws_settings, create_bucket, running_s3_server  # noqa: E402


@pytest.fixture
def project(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Settings of a project at ``tmp_path/proj`` (cwd), its home ``proj/.stead``."""
    from stead.config import Settings

    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    return Settings(home=root / ".stead", store_url=store_url)


@pytest.fixture
def local_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A project on SQLite only, for tests about files rather than the database."""
    from stead.config import Settings

    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    return Settings(home=root / ".stead", store_url=f"sqlite:///{tmp_path / 'stead.db'}")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    with running_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_remote(s3_server: str) -> tuple[str, dict[str, str]]:
    """(s3:// URL of a fresh bucket prefix, the aws settings that reach it)."""
    return f"s3://{create_bucket(s3_server)}/data", aws_settings(s3_server)

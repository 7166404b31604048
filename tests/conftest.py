"""Shared fixtures: metadata stores on SQLite and PostgreSQL, settings in a temp home."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("STEAD_TEST_POSTGRES_URL")
REQUIRE_ALL = os.environ.get("STEAD_TEST_REQUIRE_ALL") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REQUIRE_ALL and not POSTGRES_URL:
        raise pytest.UsageError("STEAD_TEST_REQUIRE_ALL=1 but STEAD_TEST_POSTGRES_URL is not set")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """In CI (STEAD_TEST_REQUIRE_ALL=1) a skipped test is a failed test: nothing skips silently."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"


def _postgres_schema_url(base: str) -> Iterator[str]:
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        # Every connection made for this test carries the schema as its application name, so
        # that those a test left open (pools of stores it never closed) are ended with it: the
        # server's connection slots are shared by the whole parallel suite.
        yield f"{base}{sep}options=-csearch_path%3D{schema}&application_name={schema}"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE application_name = %s AND pid <> pg_backend_pid()", (schema,))
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("set STEAD_TEST_POSTGRES_URL to run the PostgreSQL cases")
    yield from _postgres_schema_url(POSTGRES_URL)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The metadata store URL, once per database stead supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'stead.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip("set STEAD_TEST_POSTGRES_URL to run the PostgreSQL cases")
        yield from _postgres_schema_url(POSTGRES_URL)


@pytest.fixture
def settings(tmp_path: Path, store_url: str):  # type: ignore[no-untyped-def]
    """Settings with a temp home, on each supported database."""
    from stead.config import Settings

    return Settings(home=tmp_path / ".stead", store_url=store_url, artifacts_url=str(tmp_path / "artifacts"))


@pytest.fixture
def client(settings):  # type: ignore[no-untyped-def]
    from stead.tracking.client import TrackingClient

    c = TrackingClient(settings)
    yield c
    c.close()
    c.backend.close()


@pytest.fixture
def fluent(client):  # type: ignore[no-untyped-def]
    """The module-level API (stead.start_run, ...) bound to ``client``."""
    from stead.tracking import fluent as f

    f.set_client(client)
    yield f
    while f.active_run() is not None:
        f.end_run()
    f.set_client(None)

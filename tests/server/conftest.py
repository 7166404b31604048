"""Server fixtures: an in-process app (fast) and a real ``stead server`` process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture
def api(settings):  # type: ignore[no-untyped-def]
    """A TestClient over ``create_app(settings)`` on each supported database."""
    from starlette.testclient import TestClient

    from stead.server.app import create_app

    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """A real ``stead server`` process on a free 127.0.0.1 port (SQLite store)."""
    from server_process import stead_server

    with stead_server(tmp_path / "server") as url:
        yield url

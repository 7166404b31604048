"""Serving fixtures: a stead home with a tiny scikit-learn model registered as ``churn``
(version 1 at @production, version 2 at @staging: a different model, so answers tell them
apart), and a helper that starts ``stead serve`` as a real process on a free port."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from serving_helpers import Home, make_home  # noqa: E402
from server_process import free_port, run_server  # noqa: E402


@pytest.fixture(scope="session")
def sqlite_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """One registered model on SQLite, shared by the read-only protocol tests."""
    path = tmp_path_factory.mktemp("serving-home")
    return make_home(path, f"sqlite:///{path / 'stead.db'}")


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> Home:
    """A fresh registered model on each supported database (for tests that change things)."""
    return make_home(tmp_path / "home", store_url)


@pytest.fixture
def serve_logged(tmp_path: Path) -> Callable[..., contextlib.AbstractContextManager[tuple[str, Path]]]:
    """``with serve_logged(home, "--deployment", "churn") as (url, log): ...``: the server's
    stdout and stderr go to the file ``log``."""

    @contextlib.contextmanager
    def start(home: Home, *args: str) -> Iterator[tuple[str, Path]]:
        port = free_port()
        argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "serve", *args, "--port", str(port)]
        log = tmp_path / f"serve-{port}.log"
        with run_server(argv, port, home.env(), health_path="/v2/health/ready", log_path=log) as url:
            yield url, log

    return start


@pytest.fixture
def serve(serve_logged: Callable[..., contextlib.AbstractContextManager[tuple[str, Path]]]
          ) -> Callable[..., contextlib.AbstractContextManager[str]]:
    """``with serve(home, "models:/churn@production", "--max-batch-size", "8") as url: ...``"""

    @contextlib.contextmanager
    def start(home: Home, *args: str) -> Iterator[str]:
        with serve_logged(home, *args) as (url, _):
            yield url

    return start

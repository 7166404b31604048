"""``AppFactory``: what a ``stead server --workers N`` worker builds its app from.

uvicorn pickles the factory to each spawned worker and calls it there, so the settings and
flags travel with it; nothing goes through the environment.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from stead.config import Settings, adopt_settings, load_settings
from stead.logs import RequestLog
from stead.server.app import AppFactory
from stead.hosts import HostGuard


def test_the_factory_pickles_and_builds_the_app_it_describes(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", store_url=f"sqlite:///{tmp_path / 's.db'}",
                        artifacts_url=str(tmp_path / "artifacts"))
    factory = AppFactory(settings, auth=True, request_timeout=7.5, allowed_hosts="localhost",
                         request_log=True)
    environ = dict(os.environ)
    copy = pickle.loads(pickle.dumps(factory))
    assert copy == factory
    try:
        app = copy()
        assert load_settings() == settings  # code in the worker that loads settings sees these
    finally:
        adopt_settings(None)
    assert dict(os.environ) == environ
    assert isinstance(app, RequestLog) and isinstance(app.app, HostGuard)
    ctx = app.app.app.state.ctx
    try:
        assert ctx.users is not None and ctx.request_timeout == 7.5
        assert ctx.settings == settings
    finally:
        ctx.store.dispose()


def test_any_host_and_plain_logs_leave_the_router_bare(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    try:
        app = AppFactory(settings, allowed_hosts="*")()
    finally:
        adopt_settings(None)
    assert type(app).__name__ == "Router" and app.state.ctx.users is None
    app.state.ctx.store.dispose()

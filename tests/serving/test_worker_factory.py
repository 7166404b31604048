"""``AppFactory``: what a ``stead serve --workers N`` worker builds its model server from
(uvicorn pickles it to the worker; nothing goes through the environment)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from stead.config import Settings, adopt_settings, load_settings
from stead.logs import RequestLog
from stead.serving.app import AppFactory, ServeOptions, ServingApp
from stead.serving.guards import InferenceContentGuard


def test_the_factory_pickles_and_builds_the_guarded_server(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    options = ServeOptions(model=str(tmp_path / "model"), max_batch_size=8, load_before_serving=True)
    factory = AppFactory(settings, options, allowed_hosts="localhost,127.0.0.1", request_log=True)
    environ = dict(os.environ)
    copy = pickle.loads(pickle.dumps(factory))
    assert copy == factory
    try:
        app = copy()
        assert load_settings() == settings
    finally:
        adopt_settings(None)
    assert dict(os.environ) == environ
    assert isinstance(app, RequestLog) and isinstance(app.app, InferenceContentGuard)
    assert isinstance(app.app.app, ServingApp)

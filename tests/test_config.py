"""Settings: environment over stead.toml over the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from stead.config import load_settings
from stead.errors import InvalidParameter


def test_embedded_defaults(tmp_path: Path):
    s = load_settings({}, cwd=tmp_path)
    assert s.home == tmp_path / ".stead"
    assert s.resolved_store_url == f"sqlite:///{tmp_path / '.stead' / 'stead.db'}"
    assert s.resolved_artifacts_url == str(tmp_path / ".stead" / "artifacts")
    assert not s.is_remote


def test_environment_wins_over_toml(tmp_path: Path):
    (tmp_path / "stead.toml").write_text('[stead]\nstore_url = "sqlite:///from-toml.db"\nhome = "h"\n')
    s = load_settings({"STEAD_STORE_URL": "postgresql://u@h/db", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    assert s.store_url == "postgresql://u@h/db"
    assert s.home == (tmp_path / "h").resolve()
    assert s.aws == {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}


def test_remote_tracking_uri(tmp_path: Path):
    assert load_settings({"STEAD_TRACKING_URI": "http://127.0.0.1:5000"}, cwd=tmp_path).is_remote


def test_bad_toml_is_named(tmp_path: Path):
    (tmp_path / "stead.toml").write_text("store_url = [unclosed")
    with pytest.raises(InvalidParameter, match="stead.toml is not valid TOML"):
        load_settings({}, cwd=tmp_path)
    (tmp_path / "stead.toml").write_text('colour = "blue"\n')
    with pytest.raises(InvalidParameter, match="unknown settings"):
        load_settings({}, cwd=tmp_path)


def test_home_is_prepared_with_a_gitignore(tmp_path: Path):
    from stead.config import prepare_home

    s = load_settings({}, cwd=tmp_path)
    prepare_home(s)
    ignored = (tmp_path / ".stead" / ".gitignore").read_text().splitlines()
    assert "stead.db*" in ignored and "cache/" in ignored and "artifacts/" in ignored

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


def test_settings_survive_the_trip_to_a_child_process(tmp_path: Path):
    """``settings_environment`` is the inverse of ``load_settings``: a child process that reads
    it gets the parent's settings (stores resolved, booleans and AWS keys kept)."""
    from stead.config import settings_environment

    parent = load_settings({"STEAD_TRUST_PICKLE": "1", "STEAD_ALLOWED_HOSTS": "a.example",
                            "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    env = settings_environment(parent)
    child = load_settings(env, cwd=tmp_path / "elsewhere")
    assert child.home == parent.home
    assert child.resolved_store_url == parent.resolved_store_url
    assert child.resolved_artifacts_url == parent.resolved_artifacts_url
    assert child.trust_pickle and child.allowed_hosts == "a.example"
    assert child.aws == {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    assert "STEAD_TRUST_PICKLE" not in settings_environment(load_settings({}, cwd=tmp_path))


def test_adopted_settings_are_what_the_process_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from stead.config import adopt_settings

    monkeypatch.setenv("STEAD_STORE_URL", "sqlite:///from-env.db")
    handed = load_settings({"STEAD_STORE_URL": "sqlite:///handed.db"}, cwd=tmp_path)
    adopt_settings(handed)
    try:
        assert load_settings() is handed
        assert load_settings({}, cwd=tmp_path).store_url is None  # an explicit environment still wins
    finally:
        adopt_settings(None)
    assert load_settings().store_url == "sqlite:///from-env.db"


def test_other_tools_conventions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from stead.config import color_wanted, kubeconfig_path

    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert kubeconfig_path() == tmp_path / "a"
    monkeypatch.delenv("KUBECONFIG")
    assert kubeconfig_path() == Path.home() / ".kube" / "config"
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_wanted(True)
    monkeypatch.delenv("NO_COLOR")
    assert color_wanted(True) and not color_wanted(False)

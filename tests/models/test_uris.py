from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import stead.models as sm
from stead.errors import InvalidParameter, InvalidState, NotFound
from stead.models import uris


def test_unknown_registered_model_is_not_found(fluent_client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound, match="churn"):
        sm.load_model("models:/churn/3", client=fluent_client)


def test_registry_plugs_in_a_resolver(tmp_path: Path, logistic, frame, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    sm.save_model(logistic, tmp_path / "m")
    monkeypatch.setitem(uris._RESOLVERS, "models", lambda uri: str(tmp_path / "m"))
    model = sm.load_model("models:/churn@production", trust=True)
    np.testing.assert_array_equal(model.predict(frame), logistic.predict(frame))


@pytest.mark.parametrize("uri", ["runs:/", "runs:/abc", "runs:/a b/model", "runs:/abc/../x", "s3x://bucket/m", ""])
def test_bad_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameter):
        uris.resolve(uri)


def test_missing_path_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        sm.load_model(tmp_path / "nothing")


@pytest.fixture
def fluent_client(client):  # type: ignore[no-untyped-def]
    from stead.tracking import fluent

    fluent.set_client(client)
    yield client
    fluent.set_client(None)


def test_log_model_and_load_by_run_uri(fluent_client, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    import stead

    with stead.start_run() as run:
        info = sm.log_model(logistic, "model", input_example=frame.head(3))
    assert info.model_uri == f"runs:/{run.run_id}/model"
    assert info.run_id == run.run_id and info.artifact_path == "model"
    names = {f.path for f in fluent_client.list_artifacts(run.run_id, "model")}
    assert "model/MLmodel" in names and "model/model.pkl" in names
    model = sm.load_model(info.model_uri, client=fluent_client, trust=True)
    assert model.metadata.run_id == run.run_id and model.metadata.artifact_path == "model"
    assert model.path.stat().st_mode & 0o777 == 0o700
    np.testing.assert_array_equal(model.predict(frame), logistic.predict(frame))
    with pytest.raises(NotFound):
        sm.load_model(f"runs:/{run.run_id}/nothing", client=fluent_client)


def test_log_model_needs_an_active_run(fluent_client, logistic) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidState, match="active run"):
        sm.log_model(logistic, "model")


def test_log_model_registers_and_loads_by_version_and_alias(fluent_client, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    import stead
    import stead.registry as reg

    with stead.start_run():
        info = sm.log_model(logistic, "model", registered_model_name="churn", input_example=frame.head(2))
    assert info.registered_model_version == 1
    reg.set_alias("churn", "production", 1)
    for uri in ("models:/churn/1", "models:/churn@production"):
        model = sm.load_model(uri, client=fluent_client, trust=True)
        np.testing.assert_array_equal(model.predict(frame), logistic.predict(frame))

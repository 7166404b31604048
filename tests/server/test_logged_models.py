"""MLflow 3 logged models through a real ``stead server``: ``mlflow.sklearn.log_model`` with the
official client, then ``stead.load_model`` by ``models:/m-<id>``, ``runs:/`` and the registry
(whose MLflow 3 versions have ``models:/m-<id>`` sources) predicts exactly what MLflow does."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stead.config import Settings

MLFLOW_PYTHON = os.environ.get("STEAD_TEST_MLFLOW_PYTHON")

_LOG = """
import json, sys
import mlflow, mlflow.sklearn, mlflow.pyfunc, pandas as pd
from sklearn.linear_model import LogisticRegression
frame = pd.read_json(sys.argv[1], orient="split")
labels = json.loads(sys.argv[2])
clf = LogisticRegression().fit(frame, labels)
mlflow.set_experiment("logged-models")
with mlflow.start_run() as run:
    mlflow.log_param("c", 1)
    info = mlflow.sklearn.log_model(clf, name="model", input_example=frame.head(3), registered_model_name="churn")
loaded = mlflow.pyfunc.load_model(info.model_uri)
by_version = mlflow.pyfunc.load_model("models:/churn/1")
client = mlflow.MlflowClient()
mv = client.get_model_version("churn", "1")
found = client.search_logged_models([run.info.experiment_id], filter_string="name = 'model'")
print(json.dumps({
    "model_uri": info.model_uri, "run_id": run.info.run_id, "model_id": info.model_id,
    "predictions": [int(v) for v in loaded.predict(frame)],
    "by_version": [int(v) for v in by_version.predict(frame)],
    "source": mv.source, "mv_model_id": mv.model_id, "mv_run_id": mv.run_id,
    "download_uri": client.get_model_version_download_uri("churn", "1"),
    "artifact_location": client.get_logged_model(info.model_id).artifact_location,
    "params": client.get_logged_model(info.model_id).params,
    "search": [m.model_id for m in found],
}))
"""


@pytest.mark.skipif(not MLFLOW_PYTHON, reason="set STEAD_TEST_MLFLOW_PYTHON to a python with mlflow==3.17.2")
def test_mlflow_logged_model_loads_with_stead(live_server: str, tmp_path: Path) -> None:
    from stead.models import load_model
    from stead.tracking.client import TrackingClient

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    labels = [int(v) for v in (frame["a"] + frame["b"] > 0)]
    data = tmp_path / "frame.json"
    frame.to_json(data, orient="split")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STEAD_"))}
    env.update(MLFLOW_TRACKING_URI=live_server, MLFLOW_ALLOW_PICKLE_DESERIALIZATION="true",
               MLFLOW_DISABLE_TELEMETRY="true", GIT_PYTHON_REFRESH="quiet", MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(MLFLOW_PYTHON), "-c", _LOG, str(data), json.dumps(labels)], capture_output=True,
                          text=True, env=env, timeout=600, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-6000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    model_id = out["model_id"]
    assert out["model_uri"] == f"models:/{model_id}"
    assert out["by_version"] == out["predictions"]
    assert out["source"] == f"models:/{model_id}"
    assert out["mv_run_id"] == out["run_id"]
    assert out["artifact_location"].startswith("mlflow-artifacts:/")
    assert out["artifact_location"].endswith(f"/models/{model_id}/artifacts")
    assert out["download_uri"] == out["artifact_location"]
    assert out["params"] == {"c": "1"}
    assert out["search"] == [model_id]

    client = TrackingClient(Settings(home=tmp_path / "client", tracking_uri=live_server))
    try:
        for uri in (out["model_uri"], "models:/churn/1", "models:/churn/latest"):
            model = load_model(uri, client=client)
            assert [int(v) for v in model.predict(frame)] == out["predictions"], uri
    finally:
        client.close()
        client.backend.close()

    # The same store opened embedded (the server's store and artifact root, no server).
    home = tmp_path / "server"
    embedded = TrackingClient(Settings(home=tmp_path / "embedded", store_url=f"sqlite:///{home / 'stead.db'}",
                                       artifacts_url=str(home / "artifacts")))
    try:
        model = load_model(out["model_uri"], client=embedded)
        assert [int(v) for v in model.predict(frame)] == out["predictions"]
    finally:
        embedded.close()


def test_logged_model_endpoints(api) -> None:  # type: ignore[no-untyped-def]
    base = "/api/2.0/mlflow"
    eid = api.post(f"{base}/experiments/create", json={"name": "lm"}).json()["experiment_id"]
    body = {"experiment_id": eid, "name": "clf", "model_type": "sk", "params": [{"key": "a", "value": "1"}],
            "tags": [{"key": "t", "value": "x"}]}
    model = api.post(f"{base}/logged-models", json=body).json()["model"]
    info = model["info"]
    mid = info["model_id"]
    assert info["status"] == "LOGGED_MODEL_PENDING" and info["name"] == "clf"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{eid}/models/{mid}/artifacts"
    assert model["data"]["params"] == [{"key": "a", "value": "1"}]
    one = f"{base}/logged-models/{mid}"
    assert api.patch(one, json={"model_id": mid, "status": "LOGGED_MODEL_READY"}).json()["model"]["info"]["status"] \
        == "LOGGED_MODEL_READY"
    assert api.patch(f"{one}/tags", json={"tags": [{"key": "u", "value": "y"}]}).status_code == 200
    assert api.post(f"{one}/params", json={"params": [{"key": "b", "value": "2"}]}).status_code == 200
    got = api.get(one).json()["model"]
    assert got["info"]["tags"] == [{"key": "t", "value": "x"}, {"key": "u", "value": "y"}]
    assert [p["key"] for p in got["data"]["params"]] == ["a", "b"]
    assert api.delete(f"{one}/tags/u").status_code == 200
    r = api.delete(f"{one}/tags/u")
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    search = f"{base}/logged-models/search"
    assert [m["info"]["model_id"] for m in api.post(search, json={"experiment_ids": [eid]}).json()["models"]] == [mid]
    assert api.post(search, json={"experiment_ids": [eid], "filter": "name = 'other'"}).json() == {}
    assert len(api.post(search, json={"experiment_ids": [eid], "filter": "tags.t = 'x' AND name LIKE 'cl%'"})
               .json()["models"]) == 1
    assert api.post(search, json={"experiment_ids": [eid], "filter": "name ~ 1"}).status_code == 400
    assert api.delete(one).status_code == 200
    assert api.get(one).status_code == 404
    assert api.get(one, params={"allow_deleted": "true"}).status_code == 200
    bad = api.post(f"{base}/logged-models", json={"experiment_id": eid, "name": "a/b"})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert api.post(f"{base}/logged-models", json={"experiment_id": "987654"}).status_code == 404

"""The MLflow registry REST API on the stead server's ASGI app: shapes, errors, source safety."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

API = "/api/2.0/mlflow"


@pytest.fixture
def http(settings):  # type: ignore[no-untyped-def]
    from stead.server.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def run_with_model(http):  # type: ignore[no-untyped-def]
    exp = http.post(f"{API}/experiments/create", json={"name": "churn"}).json()["experiment_id"]
    run = http.post(f"{API}/runs/create", json={"experiment_id": exp, "tags": [
        {"key": "mlflow.source.git.commit", "value": "cafe"}]}).json()["run"]
    rid = run["info"]["run_id"]
    http.post(f"{API}/runs/log-metric", json={"run_id": rid, "key": "auc", "value": 0.8, "timestamp": 1, "step": 0})
    path = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts/model/MLmodel"
    assert http.put(path, content=b"flavors:\n  sklearn: {}\n").status_code == 200
    return exp, rid, run["info"]["artifact_uri"]


def test_create_get_and_mlflow_shapes(http, run_with_model):
    exp, rid, artifact_uri = run_with_model
    rm = http.post(f"{API}/registered-models/create", json={"name": "churn", "description": "d",
                                                            "tags": [{"key": "k", "value": "v"}]})
    assert rm.status_code == 200, rm.text
    body = rm.json()["registered_model"]
    assert body["name"] == "churn" and body["tags"] == [{"key": "k", "value": "v"}]
    mv = http.post(f"{API}/model-versions/create", json={"name": "churn", "source": f"runs:/{rid}/model",
                                                         "run_id": rid}).json()["model_version"]
    assert mv["version"] == "1" and mv["status"] == "READY" and mv["current_stage"] == "None"
    assert mv["stead"]["flavors"] == ["sklearn"] and mv["stead"]["git_commit"] == "cafe"
    assert mv["stead"]["metrics"] == {"auc": 0.8}
    uri = http.get(f"{API}/model-versions/get-download-uri", params={"name": "churn", "version": "1"}).json()
    assert uri == {"artifact_uri": f"{artifact_uri}/model"}
    assert http.post(f"{API}/registered-models/alias", json={"name": "churn", "alias": "prod", "version": "1"}).json() == {}
    got = http.get(f"{API}/registered-models/alias", params={"name": "churn", "alias": "prod"}).json()
    assert got["model_version"]["aliases"] == ["prod"]
    model = http.get(f"{API}/registered-models/get", params={"name": "churn"}).json()["registered_model"]
    assert model["aliases"] == [{"alias": "prod", "version": "1"}]
    assert [v["version"] for v in model["latest_versions"]] == ["1"]
    found = http.get(f"{API}/registered-models/search", params={"filter": "name LIKE 'ch%'"}).json()
    assert [m["name"] for m in found["registered_models"]] == ["churn"]
    found = http.get(f"{API}/model-versions/search", params={"filter": f"run_id = '{rid}'"}).json()
    assert [v["version"] for v in found["model_versions"]] == ["1"]
    staged = http.post(f"{API}/model-versions/transition-stage", json={
        "name": "churn", "version": "1", "stage": "Production", "archive_existing_versions": True}).json()
    assert staged["model_version"]["current_stage"] == "Production"
    latest = http.post(f"{API}/registered-models/get-latest-versions", json={"name": "churn", "stages": ["Production"]})
    assert [v["version"] for v in latest.json()["model_versions"]] == ["1"]
    assert http.patch(f"{API}/model-versions/update", json={"name": "churn", "version": "1",
                                                            "description": "x"}).status_code == 200
    assert http.post(f"{API}/registered-models/rename", json={"name": "churn", "new_name": "churn2"}).status_code == 200
    assert http.request("DELETE", f"{API}/model-versions/delete", json={"name": "churn2", "version": "1"}).json() == {}
    assert http.request("DELETE", f"{API}/registered-models/delete", json={"name": "churn2"}).json() == {}


def test_errors_are_mlflow_json(http, run_with_model):
    missing = http.get(f"{API}/registered-models/get", params={"name": "nope"})
    assert missing.status_code == 404
    assert missing.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST",
                              "message": "Registered Model with name=nope not found"}
    http.post(f"{API}/registered-models/create", json={"name": "churn"})
    dup = http.post(f"{API}/registered-models/create", json={"name": "churn"})
    assert dup.status_code == 400 and dup.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    enc = http.post(f"{API}/registered-models/create", json={"name": "ch%75rn"})
    assert enc.status_code == 400 and enc.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    nov = http.get(f"{API}/model-versions/get", params={"name": "churn", "version": "9"})
    assert nov.status_code == 404 and "version=9" in nov.json()["message"]
    bad = http.post(f"{API}/registered-models/alias", json={"name": "churn", "alias": "prod", "version": "9"})
    assert bad.status_code == 404
    no_ct = http.post(f"{API}/registered-models/create", content=b'{"name": "x"}', headers={"content-type": "text/plain"})
    assert no_ct.status_code == 400


@pytest.mark.parametrize("source", [
    "/etc",
    "/etc/passwd",
    "file:///etc",
    "file:///etc/passwd",
    "//evil-host/share/model",
    "file://evil-host/share",
    "../../../etc",
    "mlflow-artifacts:/1/../../etc",
    "mlflow-artifacts:/%2e%2e/%2e%2e/etc",
    "mlflow-artifacts:/%252e%252e/etc",
    "mlflow-artifacts://host:5000/x",
    "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/../../etc",
    "runs:/{rid}/../../{other}/artifacts/model",
    "runs:/{rid}/model#frag",
    "runs:/{rid}/model\\..\\..",
    "s3://someone-elses-bucket/model",
    "mlflow-artifacts:/{exp}/{other}/artifacts/model",
])
def test_sources_outside_the_artifact_store_are_refused(http, run_with_model, source):
    exp, rid, _ = run_with_model
    other = http.post(f"{API}/runs/create", json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
    http.post(f"{API}/registered-models/create", json={"name": "churn"})
    resp = http.post(f"{API}/model-versions/create", json={
        "name": "churn", "source": source.format(rid=rid, other=other, exp=exp), "run_id": rid})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    versions = http.get(f"{API}/model-versions/search", params={"filter": "name = 'churn'"}).json()
    assert versions.get("model_versions", []) == []


def test_sources_inside_the_artifact_store_are_accepted(http, run_with_model, settings):
    exp, rid, artifact_uri = run_with_model
    http.post(f"{API}/registered-models/create", json={"name": "churn"})
    root = Path(settings.resolved_artifacts_url)
    for source, run_id in [
        (f"runs:/{rid}/model", rid),
        (f"{artifact_uri}/model", rid),
        (f"mlflow-artifacts:/{exp}/{rid}/artifacts/model", None),
        (str(root / exp / rid / "artifacts" / "model"), None),
        (f"file://{root}/{exp}/{rid}/artifacts/model", None),
    ]:
        resp = http.post(f"{API}/model-versions/create", json={"name": "churn", "source": source, "run_id": run_id})
        assert resp.status_code == 200, (source, resp.text)


def test_stead_alias_history_and_rollback(http, run_with_model):
    _, rid, _ = run_with_model
    http.post(f"{API}/registered-models/create", json={"name": "churn"})
    for _ in range(2):
        http.post(f"{API}/model-versions/create", json={"name": "churn", "source": f"runs:/{rid}/model"})
    for v in ("1", "2"):
        http.post(f"{API}/registered-models/alias", json={"name": "churn", "alias": "prod", "version": v,
                                                          "reason": f"ship {v}"})
    back = http.post("/api/2.0/stead/registered-models/rollback", json={"name": "churn", "alias": "prod"})
    assert back.json()["model_version"]["version"] == "1"
    events = http.get("/api/2.0/stead/registered-models/alias-history", params={"name": "churn"}).json()["events"]
    assert [(e["action"], e["from_version"], e["to_version"]) for e in events] == [
        ("set", None, "1"), ("set", "1", "2"), ("rollback", "2", "1")]
    assert events[1]["reason"] == "ship 2"


def test_rest_client_round_trip(http, run_with_model, settings):
    """RegistryClient with a server URL speaks these endpoints (through the ASGI app here)."""
    from stead.registry.rest import RestRegistry

    _, rid, _ = run_with_model
    remote = settings.with_overrides(tracking_uri="http://testserver")
    reg = RestRegistry(remote, client=http)
    reg.create_registered_model("churn", tags={"a": "b"})
    mv = reg.create_model_version("churn", f"runs:/{rid}/model", rid)
    reg.set_registered_model_alias("churn", "prod", mv.version, reason="go")
    assert reg.resolve("models:/churn@prod").version == 1
    assert reg.resolve("models:/churn/latest").storage_location.endswith("/model")
    assert reg.alias_history("churn")[0].reason == "go"
    from stead.errors import NotFound

    with pytest.raises(NotFound, match="not found"):
        reg.get_registered_model("nope")

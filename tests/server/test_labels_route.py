"""``POST /api/stead/v1/deployments/{name}/labels`` against a real ``stead server`` process
(SQLite and PostgreSQL), with ``--auth``: EDIT on the deployment's models is needed, READ
alone is a 403, no permission at all reads as a deployment that does not exist."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import numpy as np
import pytest

from stead.artifacts import open_artifact_store
from stead.monitoring.labels import read_labels
from stead.server.users import UserService
from stead.serving.deployments import Deployments, Variant
from stead.serving.prediction_log import PredictionLog
from stead.store import open_store

PASSWORD = "correct horse battery"
LABELS = "/api/stead/v1/deployments/{}/labels"


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


@pytest.fixture
def server(tmp_path: Path, store_url: str):  # type: ignore[no-untyped-def]
    from server_process import stead_server

    home = tmp_path / "server"
    store = open_store(store_url)
    Deployments(store).create("churn", [Variant("primary", "churn@production", 90),
                                        Variant("canary", "churn-v2@staging", 10)])
    users = UserService(store)
    users.create_user("root", PASSWORD, admin=True)
    for name, grants in (("editor", {"churn": "EDIT", "churn-v2": "EDIT"}),
                         ("half", {"churn": "EDIT", "churn-v2": "READ"}),
                         ("stranger", {"other": "MANAGE"})):
        users.create_user(name, PASSWORD)
        for model, level in grants.items():
            users.grant(name, registered_model=model, level=level)
    store.dispose()
    artifacts = open_artifact_store(str(home / "artifacts"))
    log = PredictionLog(artifacts, "churn", flush_s=3600)
    for i in range(3):
        log.record("primary", "1", "v2", f"r{i}", 0.001, {"x": [1.0]}, {"predict": np.array([1])})
    log.close()
    with stead_server(home, "--auth", store_url=store_url) as url:
        yield url, artifacts


def test_labels_are_logged_over_http_with_edit_on_the_models(server):
    url, artifacts = server
    done = httpx.post(url + LABELS.format("churn"), json={"labels": {"r0": 1, "r1": 0, "ghost": 1}},
                      headers=_basic("editor"))
    assert done.status_code == 200, done.text
    body = done.json()
    assert {k: body[k] for k in ("deployment", "received", "matched", "unknown", "rows", "unknown_ids")} == {
        "deployment": "churn", "received": 3, "matched": 2, "unknown": 1, "rows": 3, "unknown_ids": ["ghost"]}
    # the list form; a later record for the same request wins
    listed = httpx.post(url + LABELS.format("churn"), headers=_basic("root"),
                        json={"labels": [{"request_id": "r2", "label": 0}, {"request_id": "r2", "label": 1}]})
    assert listed.status_code == 200 and listed.json()["matched"] == 1
    assert read_labels(artifacts, "churn") == {("r0", 0): 1, ("r1", 0): 0, ("ghost", 0): 1, ("r2", 0): 1}


def test_permissions_and_bad_bodies(server):
    url, artifacts = server
    post = lambda name, user, body: httpx.post(url + LABELS.format(name), json=body,  # noqa: E731
                                               headers=_basic(user) if user else {})
    body = {"labels": {"r0": 1}}
    assert post("churn", None, body).status_code == 401
    half = post("churn", "half", body)  # READ only on one of the two models
    assert half.status_code == 403 and half.json()["error_code"] == "PERMISSION_DENIED"
    stranger = post("churn", "stranger", body)
    missing = post("nope", "stranger", body)
    assert stranger.status_code == missing.status_code == 404
    assert stranger.json()["message"].replace("churn", "X") == missing.json()["message"].replace("nope", "X")
    assert post("nope", "root", body).json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    for bad in ({"labels": {"r0": {"a": 1}}}, {"labels": "r0"}, {}, {"labels": [{"id": "r0"}]},
                {"labels": {"r0": 1, "r1": "yes"}}):
        answer = post("churn", "editor", bad)
        assert answer.status_code == 400 and answer.json()["error_code"] == "INVALID_PARAMETER_VALUE", bad
    assert read_labels(artifacts, "churn") == {}  # nothing half written

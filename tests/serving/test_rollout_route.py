"""``GET /api/stead/v1/deployments/{name}/analysis`` against a real ``stead server`` process
(SQLite and PostgreSQL) with ``--auth``: the judge's verdict on the canary with a top-level
``pass`` for Argo Rollouts and Flagger, READ on every model of the deployment needed, and
any other caller told the deployment does not exist."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import pytest

from rollout_helpers import write_log
from stead.artifacts import open_artifact_store
from stead.server.users import UserService
from stead.serving.deployments import Deployments, Variant
from stead.store import open_store

PASSWORD = "correct horse battery"
ANALYSIS = "/api/stead/v1/deployments/{}/analysis"


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


@pytest.fixture
def server(tmp_path: Path, store_url: str):  # type: ignore[no-untyped-def]
    from server_process import stead_server

    home = tmp_path / "server"
    store = open_store(store_url)
    deployments = Deployments(store)
    deployments.create("churn", [Variant("primary", "churn@production", 90), Variant("canary", "churn-v2@staging", 10)])
    deployments.create("solo", [Variant("primary", "churn@production", 100)])
    users = UserService(store)
    users.create_user("root", PASSWORD, admin=True)
    for name, grants in (("reader", {"churn": "READ", "churn-v2": "READ"}), ("half", {"churn": "READ"})):
        users.create_user(name, PASSWORD)
        for model, level in grants.items():
            users.grant(name, registered_model=model, level=level)
    store.dispose()
    artifacts = open_artifact_store(str(home / "artifacts"))
    now = time.time()
    write_log(artifacts, now - 120, now - 1, {"primary": (300, 0), "canary": (40, 40)},
              {"primary": "1", "canary": "1"})
    with stead_server(home, "--auth", store_url=store_url) as url:
        yield url


def test_the_verdict_is_json_with_a_top_level_pass(server) -> None:
    got = httpx.get(server + ANALYSIS.format("churn"), headers=_basic("reader"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["pass"], body["verdict"], body["score"]) == (False, "fail", 0.0)
    assert (body["primary"], body["candidate"], body["rollout"]) == ("primary", "canary", None)
    assert body["variants"]["canary"] == {**body["variants"]["canary"], "requests": 80, "errors": 40}
    assert "critical check failed: error_rate" in body["reason"]
    assert [c["name"] for c in body["analysis"]["checks"]] == ["latency", "error_rate", "prediction_drift"]
    # a window without the traffic: no data counts against the candidate
    old = httpx.get(server + ANALYSIS.format("churn"), params={"window_s": "0.5"}, headers=_basic("root")).json()
    assert (old["pass"], old["verdict"]) == (False, "fail")
    assert all(c["numbers"].get("no_data") for c in old["analysis"]["checks"])


def test_permissions_and_bad_requests(server) -> None:
    for user in ("half", None):
        headers = _basic(user) if user else {}
        got = httpx.get(server + ANALYSIS.format("churn"), headers=headers)
        assert got.status_code == (404 if user else 401), got.text
    hidden = httpx.get(server + ANALYSIS.format("churn"), headers=_basic("half")).json()
    missing = httpx.get(server + ANALYSIS.format("nope"), headers=_basic("half")).json()
    assert hidden["message"].replace("churn", "X") == missing["message"].replace("nope", "X")
    bad = httpx.get(server + ANALYSIS.format("churn"), params={"window_s": "soon"}, headers=_basic("root"))
    assert bad.status_code == 400 and "window_s must be a positive number" in bad.json()["message"]
    solo = httpx.get(server + ANALYSIS.format("solo"), headers=_basic("root"))
    assert solo.status_code == 400 and "has no canary to analyse" in solo.json()["message"]

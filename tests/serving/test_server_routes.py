"""The stead server lists deployments (read-only), behind its authentication."""

from __future__ import annotations

from starlette.testclient import TestClient

from stead.server.app import create_app
from stead.serving.deployments import Deployments, Variant
from stead.store import open_store


def test_server_lists_and_shows_deployments(settings):
    store = open_store(settings.resolved_store_url)
    Deployments(store).create("churn", [Variant("primary", "churn@production", 90, False),
                                        Variant("canary", "churn@staging", 10, False)])
    store.dispose()
    with TestClient(create_app(settings)) as api:
        listed = api.get("/api/stead/v1/deployments").json()["deployments"]
        assert [d["name"] for d in listed] == ["churn"]
        shown = api.get("/api/stead/v1/deployments/churn").json()["deployment"]
        assert [(v["name"], v["model"], v["weight"]) for v in shown["variants"]] == [
            ("primary", "churn@production", 90), ("canary", "churn@staging", 10)]
        missing = api.get("/api/stead/v1/deployments/nope")
        assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_deployments_need_a_login_when_auth_is_on(settings):
    with TestClient(create_app(settings, auth=True)) as api:
        assert api.get("/api/stead/v1/deployments").status_code == 401
        assert api.get("/api/stead/v1/deployments/churn").status_code == 401

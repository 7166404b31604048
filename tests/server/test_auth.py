"""Auth: deny by default, 401 for anonymous calls, 404 without any permission (as for a
missing resource), 403 with READ but not the level needed,
a READ/EDIT/MANAGE matrix, basic and bearer credentials, no default accounts."""

from __future__ import annotations

import base64
import re

import pytest

from stead.server.dispatch import JsonEndpointApp, RawEndpointApp
from stead.server.endpoint import Access, Endpoint
from stead.ui.page import PageApp

API = "/api/2.0/mlflow"
PASSWORD = "correct horse battery"


def _basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def auth_api(settings):  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from stead.server.app import create_app

    app = create_app(settings, auth=True)
    users = app.state.ctx.users
    assert users.list_users() == []  # no default accounts, ever
    users.create_user("root", PASSWORD, admin=True)
    for name in ("reader", "editor", "manager", "nobody"):
        users.create_user(name, PASSWORD)
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = _basic("root")
        eid = client.post(f"{API}/experiments/create", json={"name": "guarded"}, headers=admin).json()["experiment_id"]
        run = client.post(f"{API}/runs/create", json={"experiment_id": eid, "run_name": "r"}, headers=admin).json()
        rid = run["run"]["info"]["run_id"]
        client.put(f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{rid}/artifacts/f.txt", content=b"x", headers=admin)
        model = client.post(f"{API}/logged-models", json={"experiment_id": eid, "name": "m",
                                                         "tags": [{"key": "k", "value": "v"}]}, headers=admin).json()
        mid = model["model"]["info"]["model_id"]
        for name, level in (("reader", "READ"), ("editor", "EDIT"), ("manager", "MANAGE")):
            users.grant(name, experiment_id=eid, registered_model="guarded", level=level)
        client.ids = (eid, rid)  # type: ignore[attr-defined]
        client.model_id = mid  # type: ignore[attr-defined]
        yield client


def _request(client, prefix, endpoint, headers):  # type: ignore[no-untyped-def]
    eid, rid = client.ids
    fields = {"experiment_id": eid, "experiment_ids": [eid], "run_id": rid, "run_ids": rid, "experiment_name": "guarded",
              "name": "guarded", "key": "k", "value": "v", "metric_key": "m", "path": f"{eid}/{rid}/artifacts",
              "timestamp": 1, "hash": "h", "python": "3"}
    path = prefix + endpoint.path.replace("{artifact_path:path}", f"{eid}/{rid}/artifacts/f.txt")
    path = path.replace("{model_id}", client.model_id).replace("{tag_key:path}", "k")
    fields["models"] = [{"model_id": client.model_id, "step": 0}]
    fields["status"] = "LOGGED_MODEL_READY"
    if endpoint.method == "GET":
        return client.get(path, params={k: v for k, v in fields.items() if k != "experiment_ids"}, headers=headers)
    if endpoint.method == "PUT":
        return client.put(path, content=b"data", headers=headers)
    return client.request(endpoint.method, path, json=fields, headers=headers)


def _all_endpoints(client):  # type: ignore[no-untyped-def]
    return [(prefix, e) for prefix, table in client.app.state.route_tables for e in table]


# The routes anyone may call without logging in. A new public route is a decision: add it here.
# The UI's: its "/" shell (no data), static files, the login form, logging in and out.
PUBLIC_ROUTES = {(m, p) for m in ("GET", "HEAD") for p in (
    "/health", "/version", "/openapi.json", "/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info",
    "/", "/login", "/static/{digest}/{name}")} | {("POST", "/login"), ("POST", "/logout")}
# What a public route answers the walk's made-up request when that is not 200: the UI's POSTs
# refuse a request without the CSRF token, and no static file has a made-up name.
PUBLIC_REFUSALS = {("POST", "/login"): 403, ("POST", "/logout"): 403, ("GET", "/static/{digest}/{name}"): 404,
                   ("HEAD", "/static/{digest}/{name}"): 404}


def _unguarded(router):  # type: ignore[no-untyped-def]
    """The live routes (the router's own look-up tables) not answered by an endpoint adapter
    with an access rule; those adapters authorize every call before the handler runs."""
    bad = []
    for path, method, app in router.mounted():
        access = getattr(getattr(app, "endpoint", None), "access", None)
        if not isinstance(app, JsonEndpointApp | RawEndpointApp | PageApp) or not isinstance(access, Access):
            bad.append(f"{method} {path}")
    return bad


def test_every_live_route_has_an_access_rule(auth_api):
    router = auth_api.app
    assert _unguarded(router) == []
    live = router.mounted()
    assert len([r for r in live if r[1] != "HEAD"]) == len(_all_endpoints(auth_api))  # nothing mounted off the tables
    public = {(method, path) for path, method, app in live if app.endpoint.access.resource == "public"}
    assert public == PUBLIC_ROUTES


def test_the_walk_sees_a_route_mounted_without_a_rule(auth_api):
    from stead.server.router import MountedRoute, Router

    async def bare(scope, receive, send):  # type: ignore[no-untyped-def]
        raise AssertionError("never called")

    added = [MountedRoute("/api/2.0/mlflow/new-thing", "POST", bare), MountedRoute("/api/2.0/x/{item}", "GET", bare)]
    router = Router([*auth_api.app.routes, *added])
    assert _unguarded(router) == ["POST /api/2.0/mlflow/new-thing", "GET /api/2.0/x/{item}", "HEAD /api/2.0/x/{item}"]
    with pytest.raises(TypeError):  # and an endpoint cannot be declared without one
        Endpoint("GET", "/x", bare, summary="no rule")  # type: ignore[call-arg]


def test_every_live_route_refuses_anonymous_calls(auth_api):
    """Walks the router's tables, not the endpoint lists: HEAD aliases and path patterns too."""
    for path, method, _ in auth_api.app.mounted():
        concrete = re.sub(r"{(\w+)(:path)?}", lambda m: "1/r/artifacts/f.txt" if m.group(2) else "m-1", path)
        r = auth_api.request(method, concrete, content=b"{}", headers={"content-type": "application/json"})
        if (method, path) in PUBLIC_ROUTES:
            assert r.status_code == PUBLIC_REFUSALS.get((method, path), 200), (method, path, r.status_code)
        else:
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            if method != "HEAD":
                assert r.json()["error_code"] == "UNAUTHENTICATED"


def test_anonymous_calls_get_401(auth_api):
    for prefix, endpoint in _all_endpoints(auth_api):
        r = _request(auth_api, prefix, endpoint, {})
        if endpoint.access.resource == "public":
            assert r.status_code == PUBLIC_REFUSALS.get((endpoint.method, endpoint.path), 200), (endpoint.path, r.text)
        else:
            assert r.status_code == 401, (prefix + endpoint.path, r.status_code, r.text)
            assert r.json()["error_code"] == "UNAUTHENTICATED"


def test_bad_credentials_get_401(auth_api):
    for headers in (_basic("root", "wrong password"), _basic("ghost"), {"Authorization": "Bearer stead_nope"},
                    {"Authorization": "Basic !!!"}, {"Authorization": "Digest x"}):
        r = auth_api.get(f"{API}/experiments/get", params={"experiment_id": "0"}, headers=headers)
        assert r.status_code == 401 and r.json()["error_code"] == "UNAUTHENTICATED"


def test_users_without_permission_are_refused(auth_api):
    """No permission at all: the answer for a missing resource (no existence oracle); admin routes: 403."""
    for prefix, endpoint in _all_endpoints(auth_api):
        if endpoint.access.resource in ("public", "authenticated"):
            continue
        r = _request(auth_api, prefix, endpoint, _basic("nobody"))
        if endpoint.access.resource == "admin":
            assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED", (endpoint.path, r.text)
        else:
            assert r.status_code == 404, (prefix + endpoint.path, r.status_code, r.text)
            assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
            assert "may not read it" in r.json()["message"]


LEVEL = {"READ": 1, "EDIT": 2, "MANAGE": 3}


@pytest.mark.parametrize("user", ["reader", "editor", "manager"])
def test_permission_matrix(auth_api, user):
    have = {"reader": 1, "editor": 2, "manager": 3}[user]
    for prefix, endpoint in _all_endpoints(auth_api):
        if prefix != "/api/2.0" or endpoint.access.resource in ("public", "authenticated", "admin"):
            continue
        if endpoint.path.endswith(("/delete", "/restore")) or endpoint.method == "DELETE":
            continue  # destructive calls are checked below, in order
        r = _request(auth_api, prefix, endpoint, _basic(user))
        need = LEVEL[endpoint.access.level or "READ"]
        if have >= need:
            assert r.status_code != 403, (user, endpoint.path, r.text)
        else:
            assert r.status_code == 403, (user, endpoint.path, r.status_code, r.text)


def test_delete_needs_manage(auth_api):
    eid, rid = auth_api.ids
    art = f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{rid}/artifacts/f.txt"
    for user in ("reader", "editor"):  # CVE-2024-4263: EDIT must not delete artifacts
        assert auth_api.delete(art, headers=_basic(user)).status_code == 403
        assert auth_api.post(f"{API}/runs/delete", json={"run_id": rid}, headers=_basic(user)).status_code == 403
        assert auth_api.post(f"{API}/experiments/delete", json={"experiment_id": eid}, headers=_basic(user)).status_code == 403
    assert auth_api.put(art, content=b"y", headers=_basic("reader")).status_code == 403
    assert auth_api.put(art, content=b"y", headers=_basic("editor")).status_code == 200
    assert auth_api.delete(art, headers=_basic("manager")).status_code == 200
    assert auth_api.post(f"{API}/runs/delete", json={"run_id": rid}, headers=_basic("manager")).status_code == 200


def test_bearer_tokens_and_revocation(auth_api):
    users = auth_api.app.state.ctx.users
    token_id, token = users.create_token("reader", "laptop")
    headers = {"Authorization": f"Bearer {token}"}
    eid, _ = auth_api.ids
    assert auth_api.get(f"{API}/experiments/get", params={"experiment_id": eid}, headers=headers).status_code == 200
    users.revoke_token(token_id)
    r = auth_api.get(f"{API}/experiments/get", params={"experiment_id": eid}, headers=headers)
    assert r.status_code == 401


def test_creator_manages_and_search_is_filtered(auth_api):
    h = _basic("nobody")
    own = auth_api.post(f"{API}/experiments/create", json={"name": "mine"}, headers=h).json()["experiment_id"]
    names = [e["name"] for e in auth_api.post(f"{API}/experiments/search", json={}, headers=h).json()["experiments"]]
    assert names == ["mine"]
    assert auth_api.post(f"{API}/experiments/delete", json={"experiment_id": own}, headers=h).status_code == 200
    eid, _ = auth_api.ids
    r = auth_api.post(f"{API}/runs/search", json={"experiment_ids": [own, eid]}, headers=h)
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_passwords_are_hashed(auth_api):
    from sqlalchemy import select

    from stead.server.tables import users

    with auth_api.app.state.ctx.store.read() as conn:
        hashes = [row[0] for row in conn.execute(select(users.c.password_hash))]
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in hashes)

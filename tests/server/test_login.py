"""Logins: an unknown user name costs what a known one does, repeated failures are throttled
(429 REQUEST_LIMIT_EXCEEDED) per user and per client address, and a revoked token, a deleted
user or a changed password stops working at once on every server process."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server_process import stead_server
from stead.server import users as users_module
from stead.server.throttle import ADDRESS_LIMIT, USER_LIMIT
from stead.server.users import Credentials, UserService
from stead.store import open_store

API = "/api/2.0/mlflow"
PASSWORD = "correct horse battery"
PROBE = f"{API}/experiments/search?max_results=1"


def _basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _get(url: str, headers: dict[str, str]) -> httpx.Response:
    # A fresh connection per call, so that with --workers N the calls spread over the workers.
    with httpx.Client(timeout=30) as c:
        return c.get(url + PROBE, headers=headers)


@pytest.fixture
def service(store_url: str) -> Iterator[UserService]:
    store = open_store(store_url)
    svc = UserService(store)
    svc.create_user("admin", PASSWORD, admin=True)
    svc.create_user("alice", PASSWORD)
    svc.create_user("bob", PASSWORD)
    yield svc
    store.dispose()


def test_unknown_and_known_user_names_cost_one_key_derivation(service: UserService,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = users_module._derive

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(users_module, "_derive", counting)
    costs = {}
    for name, secret in {"unknown": "nobody-here:wrong-password", "known, wrong password": "alice:wrong-password",
                         "known, right password": f"bob:{PASSWORD}"}.items():
        calls.clear()
        try:
            service.authenticate(Credentials("basic", secret, f"10.0.0.{len(costs)}"))
        except Exception:  # noqa: BLE001 - only the cost is measured here
            pass
        costs[name] = len(calls)
    assert costs == {"unknown": 1, "known, wrong password": 1, "known, right password": 1}
    calls.clear()
    service.authenticate(Credentials("basic", f"bob:{PASSWORD}", "10.0.0.9"))
    assert calls == []  # a password this process verified against this hash is not derived again


@pytest.fixture
def auth_server(tmp_path: Path, service: UserService, store_url: str) -> Iterator[str]:
    with stead_server(tmp_path / "server", "--auth", store_url=store_url) as url:
        yield url


def test_failed_logins_are_throttled_per_user(auth_server: str) -> None:
    for _ in range(USER_LIMIT):
        assert _get(auth_server, _basic("alice", "a wrong guess")).status_code == 401
    for password in ("another guess", PASSWORD):  # refused before the password is checked
        r = _get(auth_server, _basic("alice", password))
        assert r.status_code == 429, r.text
        body = r.json()
        assert body["error_code"] == "REQUEST_LIMIT_EXCEEDED"
        assert "Too many failed logins for this user" in body["message"] and "Retry in" in body["message"]
    assert _get(auth_server, _basic("bob")).status_code == 200  # another user is not locked out


def test_failed_logins_are_throttled_per_client_address(auth_server: str) -> None:
    # A password sprayed over many names: each name stays under its own limit, the address does not.
    for i in range(ADDRESS_LIMIT):
        assert _get(auth_server, _basic(f"guess-{i}", "Winter2026!")).status_code == 401
    r = _get(auth_server, _basic("bob"))
    assert r.status_code == 429 and r.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert "this client address" in r.json()["message"]


def test_revocations_take_effect_at_once_on_every_worker(tmp_path: Path, service: UserService,
                                                         store_url: str) -> None:
    _, token = service.create_token("alice", "ci")
    bearer = {"Authorization": f"Bearer {token}"}
    with stead_server(tmp_path / "server", "--auth", "--workers", "2", store_url=store_url) as url:
        for _ in range(8):  # every worker has seen (and may remember) these credentials
            assert _get(url, bearer).status_code == 200
            assert _get(url, _basic("alice")).status_code == 200
            assert _get(url, _basic("bob")).status_code == 200
        token_id = next(t["id"] for t in service.list_tokens("alice"))
        service.revoke_token(int(token_id))
        service.set_password("alice", "a brand new password")
        service.delete_user("bob")
        for _ in range(4):
            assert _get(url, bearer).status_code == 401
            assert _get(url, _basic("alice")).status_code == 401
            assert _get(url, _basic("bob")).status_code == 401
        assert _get(url, _basic("alice", "a brand new password")).status_code == 200

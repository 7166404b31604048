"""The UI with ``stead server --auth`` in Chromium: anonymous visitors are sent to the login
page, a login starts a session (HttpOnly, SameSite=Strict), wrong passwords are refused and
throttled, a user sees nothing of another team's experiment (page and JSON), and buttons a
user may not use are absent."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

API = "/api/2.0/mlflow"
PASSWORD = "correct horse battery"


@dataclass
class Teams:
    url: str
    team_a: str  # alice's experiment (alice MANAGE), with run a_run
    a_run: str
    team_b: str  # bob's experiment (bob MANAGE); bob may READ team_shared only
    shared: str
    shared_run: str


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


@pytest.fixture(scope="module")
def teams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Teams]:
    from server_process import stead_server

    from stead.server.users import UserService
    from stead.store import open_store

    home = tmp_path_factory.mktemp("ui-auth") / "server"
    home.mkdir(parents=True)
    store_url = f"sqlite:///{home / 'stead.db'}"
    store = open_store(store_url)
    users = UserService(store)
    users.create_user("root", PASSWORD, admin=True)
    users.create_user("alice", PASSWORD)
    users.create_user("bob", PASSWORD)
    users.create_user("carol", PASSWORD)
    store.dispose()
    with stead_server(home, "--auth", store_url=store_url) as url, httpx.Client(base_url=url) as c:
        def experiment(user: str, name: str) -> str:
            r = c.post(f"{API}/experiments/create", json={"name": name}, headers=_basic(user))
            return str(r.json()["experiment_id"])

        def run(user: str, eid: str, name: str) -> str:
            r = c.post(f"{API}/runs/create", json={"experiment_id": eid, "run_name": name}, headers=_basic(user))
            rid = r.json()["run"]["info"]["run_id"]
            c.post(f"{API}/runs/log-batch", json={"run_id": rid, "params": [{"key": "secret_param", "value": "s3cr3t"}],
                                                 "metrics": [{"key": "team_a_metric", "value": 1, "timestamp": 1}]},
                   headers=_basic(user))
            return str(rid)

        a = experiment("alice", "team-a-secret-project")
        a_run = run("alice", a, "alice-run")
        b = experiment("bob", "team-b")
        shared = experiment("alice", "shared-readonly")
        shared_run = run("alice", shared, "shared-run")
        home_users = UserService(open_store(store_url))
        home_users.grant("bob", experiment_id=shared, level="READ")
        home_users.store.dispose()
        yield Teams(url, a, a_run, b, shared, shared_run)


def _log_in(page, url: str, user: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")


def test_login_logout_and_the_session_cookie(watched, teams: Teams) -> None:
    page = watched.page
    page.goto(f"{teams.url}/experiments/{teams.team_b}?c=params.x")  # anonymous: the login page, then back here
    page.wait_for_url(re.compile(r"/login\?next="))
    _log_in(page, teams.url, "bob", "wrong password")
    page.wait_for_selector("#login-message")
    assert "wrong password" in page.locator("#login-message").inner_text()
    _log_in(page, teams.url, "bob")
    page.wait_for_url(f"{teams.url}/experiments/{teams.team_b}?c=params.x")
    assert page.locator("h1").inner_text() == "team-b"
    session = next(c for c in page.context.cookies() if c["name"] == "stead_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    csrf = next(c for c in page.context.cookies() if c["name"] == "stead_csrf")
    assert csrf["sameSite"] == "Strict"
    page.click("header .who button")  # log out: the session is revoked, not only forgotten
    page.wait_for_url(re.compile(r"/login$"))
    stolen = httpx.get(f"{teams.url}/experiments?format=json", cookies={"stead_session": session["value"]})
    assert stolen.status_code == 401
    assert all("401" in e for e in watched.errors), watched.errors
    assert watched.dialogs == []


def test_failed_logins_are_throttled(watched, teams: Teams) -> None:
    from stead.server.throttle import USER_LIMIT

    page = watched.page
    page.goto(f"{teams.url}/login")
    for _ in range(USER_LIMIT):
        _log_in(page, teams.url, "carol", "not her password")
        page.wait_for_selector("#login-message")
    _log_in(page, teams.url, "carol")  # even the right password, until the window has passed
    page.wait_for_selector("#login-message")
    assert "Too many failed logins" in page.locator("#login-message").inner_text()
    assert not any(c["name"] == "stead_session" for c in page.context.cookies())
    assert all("401" in e or "429" in e for e in watched.errors), watched.errors


def test_a_login_post_without_the_csrf_token_is_refused(watched, teams: Teams) -> None:
    page = watched.page
    page.goto(f"{teams.url}/login")
    r = page.request.post(f"{teams.url}/login", form={"username": "bob", "password": PASSWORD}, max_redirects=0)
    assert r.status == 403 and "CSRF" in r.text()
    assert not any(c["name"] == "stead_session" for c in page.context.cookies())
    watched.clean()


def test_a_user_sees_nothing_of_another_teams_experiment(watched, teams: Teams) -> None:
    page = watched.page
    page.goto(f"{teams.url}/login")
    _log_in(page, teams.url, "bob")
    page.wait_for_url(re.compile(r"/experiments$"))
    names = page.locator("#experiments tbody a").all_inner_texts()
    assert sorted(names) == ["shared-readonly", "team-b"]
    assert "team-a" not in page.content()
    listing = page.request.get(f"{teams.url}/experiments?format=json").json()
    assert sorted(e["name"] for e in listing["experiments"]) == ["shared-readonly", "team-b"]
    for path in (f"/experiments/{teams.team_a}", f"/experiments/{teams.team_a}/runs/{teams.a_run}",
                 f"/experiments/{teams.team_a}/keys?q=", f"/experiments/{teams.team_b}/runs/{teams.a_run}"):
        shown = page.goto(teams.url + path)
        assert shown is not None and shown.status == 404, path
        text = page.content()
        for secret in ("team-a-secret-project", "alice-run", "secret_param", "s3cr3t", "team_a_metric"):
            assert secret not in text, (path, secret)
        answer = page.request.get(f"{teams.url}{path}{'&' if '?' in path else '?'}format=json")
        assert answer.status == 404 and answer.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST", path
        assert "team-a-secret-project" not in answer.text() and "s3cr3t" not in answer.text()
    # the same answer as for an experiment that does not exist (no existence oracle)
    missing = page.request.get(f"{teams.url}/experiments/999999?format=json").json()
    assert missing["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert all("404" in e for e in watched.errors), watched.errors


def test_buttons_a_user_may_not_use_are_absent(watched, teams: Teams) -> None:
    page = watched.page
    page.goto(f"{teams.url}/login")
    _log_in(page, teams.url, "bob")
    page.wait_for_url(re.compile(r"/experiments$"))
    run_url = f"{teams.url}/experiments/{teams.shared}/runs/{teams.shared_run}"
    page.goto(run_url)
    assert page.locator("h1").inner_text() == "shared-run"  # READ: bob sees it
    assert page.locator("#run-delete").count() == 0  # but may not delete it: no button
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    refused = page.request.post(f"{run_url}/delete", form={"csrf_token": token}, max_redirects=0)
    assert refused.status == 403  # and the route refuses it, token or not
    assert page.request.get(f"{teams.url}/logout").status == 405  # a link cannot log anyone out
    page.click("header .who button")
    page.goto(f"{teams.url}/login")
    _log_in(page, teams.url, "alice")
    page.wait_for_url(re.compile(r"/experiments$"))
    page.goto(run_url)
    assert page.locator("#run-delete").count() == 1  # alice manages it
    watched.clean()


def test_bad_credentials_on_the_login_page_are_no_redirect_loop(teams: Teams) -> None:
    """A browser that cached wrong Basic credentials for the API still gets the login form."""
    headers = {"accept": "text/html", "Authorization": "Basic " + base64.b64encode(b"bob:wrong").decode()}
    r = httpx.get(f"{teams.url}/login", headers=headers)
    assert r.status_code == 200 and 'action="/login"' in r.text
    assert httpx.get(f"{teams.url}/experiments", headers=headers).status_code == 303  # a guarded page: log in first
    anonymous = httpx.get(f"{teams.url}/experiments", headers={"accept": "text/html"})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/experiments"

"""The registry pages in Chromium against a real ``stead server``: the models list, a model
(versions, aliases, the alias audit log) and a version (card, signature, lineage) render
without a console error; an alias moved from the page shows in the history; a model named
``<script>...`` is text; with ``--auth`` a READ-only user sees no form and a forged POST is
refused, and a user without READ sees nothing of the model (page and JSON)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

API = "/api/2.0/mlflow"
XSS = "<script>alert(1)"  # model names may not contain '/'
PASSWORD = "correct horse battery"


@dataclass
class Registry:
    url: str
    run_page: str
    headers: dict[str, str]


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


def _seed(c: httpx.Client, headers: dict[str, str], model: str = "churn") -> str:
    """``model`` with versions 1 and 2 from one run that read a dataset; ``production`` -> 1."""
    eid = c.post(f"{API}/experiments/create", json={"name": f"exp-{model}"}, headers=headers).json()["experiment_id"]
    rid = c.post(f"{API}/runs/create", json={"experiment_id": eid, "run_name": "train"},
                 headers=headers).json()["run"]["info"]["run_id"]
    dataset = {"name": "customers", "digest": "d1g3st", "source_type": "local", "source": "data/customers.csv"}
    r = c.post(f"{API}/runs/log-inputs", headers=headers, json={"run_id": rid, "datasets": [
        {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"}]}]})
    assert r.status_code == 200, r.text
    assert c.post(f"{API}/registered-models/create", json={"name": model}, headers=headers).status_code == 200
    for _ in range(2):
        r = c.post(f"{API}/model-versions/create", json={"name": model, "source": f"runs:/{rid}/model", "run_id": rid},
                   headers=headers)
        assert r.status_code == 200, r.text
    r = c.post(f"{API}/registered-models/alias", json={"name": model, "alias": "production", "version": "1"},
               headers=headers)
    assert r.status_code == 200, r.text
    return f"/experiments/{eid}/runs/{rid}"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    from server_process import stead_server

    home = tmp_path_factory.mktemp("ui-models") / "server"
    with stead_server(home) as url, httpx.Client(base_url=url) as c:
        run_page = _seed(c, {})
        assert c.post(f"{API}/registered-models/create", json={"name": XSS}).status_code == 200
        yield Registry(url, run_page, {})


def test_pages_render_and_link_the_lineage(registry: Registry, watched) -> None:  # type: ignore[no-untyped-def]
    page = watched.page
    page.goto(registry.url + "/experiments")
    page.click("header nav >> text=Models")
    assert page.url.endswith("/models")
    row = page.locator("#models tbody tr", has_text="churn")
    assert "production → 1" in row.inner_text()
    row.locator("a", has_text="churn").click()
    assert page.locator("#model-name").inner_text() == "churn"
    assert page.locator("#versions tbody tr").count() == 2
    assert page.locator("#aliases").inner_text().split() == ["production", "1"]
    history = page.locator("#alias-history tbody tr")
    assert history.count() == 1 and "set" in history.inner_text()
    page.locator("#versions a", has_text=re.compile(r"^1$")).click()
    assert page.locator("#version-name").inner_text() == "churn version 1"
    assert "customers" in page.locator("#lineage-inputs").inner_text()
    assert "churn" in page.locator("#model-card").inner_text()
    page.click("#lineage-run")
    assert page.url == registry.url + registry.run_page
    watched.clean()


def test_pages_answer_json(registry: Registry) -> None:
    with httpx.Client(base_url=registry.url) as c:
        listed = c.get("/models", params={"format": "json"}).json()
        assert {m["name"] for m in listed["models"]} == {"churn", XSS}
        model = c.get("/models/churn", params={"format": "json"}).json()
        assert [v["version"] for v in model["versions"]] == [2, 1]
        assert model["versions"][1]["run_page"] == registry.run_page
        assert model["alias_history"][0]["to_version"] == 1
        version = c.get("/models/churn/versions/2", params={"format": "json"}).json()
        assert version["lineage"]["inputs"][0]["name"] == "customers"
        assert c.get("/models/nope", params={"format": "json"}).status_code == 404


def test_alias_moves_and_rolls_back_from_the_page(registry: Registry, watched) -> None:  # type: ignore[no-untyped-def]
    page = watched.page
    page.goto(registry.url + "/models/churn")
    page.fill("#set-alias input[name=alias]", "production")
    page.fill("#set-alias input[name=version]", "2")
    page.fill("#set-alias input[name=reason]", "better <b>auc</b>")
    with page.expect_navigation():
        page.click("#alias-set")
    assert page.locator("#aliases").inner_text().split() == ["production", "2"]
    newest = page.locator("#alias-history tbody tr").first.locator("td")
    assert [newest.nth(i).inner_text() for i in range(2, 7)] == ["production", "set", "1", "2", "better <b>auc</b>"]
    with page.expect_navigation():
        page.click("#alias-rollback")
    assert page.locator("#aliases").inner_text().split() == ["production", "1"]
    assert "rollback" in page.locator("#alias-history tbody tr").first.inner_text()
    watched.clean()


def test_a_script_model_name_is_text(registry: Registry, watched) -> None:  # type: ignore[no-untyped-def]
    page = watched.page
    page.goto(registry.url + "/models")
    assert page.locator("#models a", has_text=XSS).count() == 1
    page.goto(registry.url + "/models/" + quote(XSS, safe=""))
    assert page.locator("#model-name").inner_text() == XSS
    assert page.locator("script:not([src])").count() == 0
    watched.clean()


def test_post_without_csrf_is_refused(registry: Registry) -> None:
    with httpx.Client(base_url=registry.url) as c:
        r = c.post("/models/churn/alias", data={"alias": "evil", "version": "2"})
        assert r.status_code == 403
        assert "evil" not in c.get("/models/churn", params={"format": "json"}).json()["model"]["aliases"]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from server_process import stead_server

    from stead.server.users import UserService
    from stead.store import open_store

    home = tmp_path_factory.mktemp("ui-models-auth") / "server"
    home.mkdir(parents=True)
    store_url = f"sqlite:///{home / 'stead.db'}"
    store = open_store(store_url)
    users = UserService(store)
    for name in ("alice", "reader", "stranger"):
        users.create_user(name, PASSWORD)
    store.dispose()
    with stead_server(home, "--auth", store_url=store_url) as url, httpx.Client(base_url=url) as c:
        _seed(c, _basic("alice"), "alice-secret-model")
        store = open_store(store_url)
        UserService(store).grant("reader", registered_model="alice-secret-model", level="READ")
        store.dispose()
        yield url


def _log_in(page, url: str, user: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")


def test_read_only_user_sees_no_form_and_a_forged_post_is_refused(guarded: str, watched) -> None:  # type: ignore[no-untyped-def]
    page = watched.page
    _log_in(page, guarded, "reader")
    page.goto(guarded + "/models/alice-secret-model")
    assert page.locator("#model-name").inner_text() == "alice-secret-model"
    assert page.locator("#set-alias").count() == 0 and page.locator("#alias-rollback").count() == 0
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    status = page.evaluate(
        """async (token) => (await fetch('/models/alice-secret-model/alias', {method: 'POST',
             headers: {'content-type': 'application/x-www-form-urlencoded'},
             body: 'csrf_token=' + encodeURIComponent(token) + '&alias=production&version=2'})).status""", token)
    assert status == 403
    refused = "console: Failed to load resource: the server responded with a status of 403 (Forbidden)"
    assert watched.errors == [refused]  # the forged POST's own refusal, nothing else
    watched.errors.clear()
    with httpx.Client(base_url=guarded, headers=_basic("alice")) as c:
        assert c.get("/models/alice-secret-model", params={"format": "json"}).json()["model"]["aliases"] == {
            "production": 1}
        owner_page = c.get("/models/alice-secret-model", headers={"Accept": "text/html"})
        assert 'id="set-alias"' in owner_page.text  # alice holds MANAGE: she gets the form
    watched.clean()


def test_user_without_read_sees_nothing_of_the_model(guarded: str, watched) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=guarded, headers=_basic("stranger")) as c:
        listed = c.get("/models", params={"format": "json"}).json()
        assert listed["models"] == []
        for path in ("/models/alice-secret-model", "/models/alice-secret-model/versions/1"):
            hidden = c.get(path, params={"format": "json"})
            missing = c.get(path.replace("alice-secret-model", "no-such-model"), params={"format": "json"})
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json()["error_code"] == missing.json()["error_code"]
            assert hidden.json()["message"] == missing.json()["message"].replace("no-such-model", "alice-secret-model")
        forged = c.post("/models/alice-secret-model/rollback", data={"alias": "production"})
        assert forged.status_code == 404  # as for a missing model: the access rule runs first
    page = watched.page
    _log_in(page, guarded, "stranger")
    page.goto(guarded + "/models")
    assert "alice-secret-model" not in page.content()
    response = page.goto(guarded + "/models/alice-secret-model")
    assert response.status == 404
    assert page.locator("#versions").count() == 0 and page.locator("#alias-history").count() == 0
    assert watched.errors == ["console: Failed to load resource: the server responded with a status of 404 (Not Found)"]
    watched.errors.clear()  # the 404 page's own status, nothing else
    watched.clean()

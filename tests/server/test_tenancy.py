"""Tenancy on ``stead server --auth``: two users on one real server process (SQLite and
PostgreSQL), one test per class of leak. Alice's experiments, runs, logged models and
registered models (and the deployments and pipeline runs that name them) must stay
invisible to Bob: not listed, not copied into his models, not confirmed to exist, not
matched by a pattern that stalls the server, and no error shows where the server keeps its
files or its database."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

API = "/api/2.0/mlflow"
ART = "/api/2.0/mlflow-artifacts/artifacts"
PASSWORD = "tenancy-password"
MLMODEL = b"flavors:\n  python_function:\n    loader_module: x\n"


@dataclass
class Tenant:
    http: httpx.Client
    experiment: str = ""
    run: str = ""
    model: str = ""  # registered model name
    logged_model: str = ""

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(API + path, json=body)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(API + path, params=params)

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@dataclass
class Server:
    url: str
    home: Path
    store_url: str
    alice: Tenant
    bob: Tenant
    admin: Tenant


def _seed(t: Tenant, prefix: str) -> None:
    """An experiment, a run with a metric, a git commit and a model folder, a registered
    model with version 1 (alias champ) from it, and a logged model of that run."""
    t.experiment = t.ok(t.post("/experiments/create", {"name": f"{prefix}-exp"}))["experiment_id"]
    t.run = t.ok(t.post("/runs/create", {"experiment_id": t.experiment}))["run"]["info"]["run_id"]
    t.ok(t.post("/runs/log-metric", {"run_id": t.run, "key": "acc", "value": 0.97, "timestamp": 1}))
    t.ok(t.post("/runs/set-tag", {"run_id": t.run, "key": "mlflow.source.git.commit", "value": f"{prefix}-commit"}))
    put = t.http.put(f"{ART}/{t.experiment}/{t.run}/artifacts/model/MLmodel", content=MLMODEL)
    assert put.status_code == 200, put.text
    t.model = f"{prefix}-model"
    t.ok(t.post("/registered-models/create", {"name": t.model}))
    t.ok(t.post("/model-versions/create", {"name": t.model, "source": f"runs:/{t.run}/model", "run_id": t.run}))
    t.ok(t.post("/registered-models/alias", {"name": t.model, "alias": "champ", "version": "1"}))
    logged = t.ok(t.post("/logged-models", {"experiment_id": t.experiment, "name": "lm", "source_run_id": t.run}))
    t.logged_model = logged["model"]["info"]["model_id"]


@pytest.fixture
def server(tmp_path: Path, store_url: str) -> Iterator[Server]:
    from server_process import stead_server

    from stead.server.users import UserService
    from stead.store import open_store

    store = open_store(store_url)
    users = UserService(store)
    users.create_user("root", PASSWORD, admin=True)
    users.create_user("alice", PASSWORD)
    users.create_user("bob", PASSWORD)
    store.dispose()
    home = tmp_path / "srv"
    with stead_server(home, "--auth", store_url=store_url) as url:
        clients = {n: httpx.Client(base_url=url, auth=(n, PASSWORD), timeout=60) for n in ("alice", "bob", "root")}
        alice, bob = Tenant(clients["alice"]), Tenant(clients["bob"])
        _seed(alice, "alice")
        _seed(bob, "bob")
        yield Server(url, home, store_url, alice, bob, Tenant(clients["root"]))
        for c in clients.values():
            c.close()


def _offset(token: str) -> int:
    return int(json.loads(base64.urlsafe_b64decode(token))["offset"])


def _pages(t: Tenant, method: str, path: str, key: str, body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    pages, token = [], None
    while True:
        args = {**body, **({"page_token": token} if token else {})}
        r = t.post(path, args) if method == "POST" else t.get(path, **args)
        data = t.ok(r)
        pages.append(data.get(key, []))
        token = data.get("next_page_token")
        if not token:
            return pages
        assert _offset(token) == sum(len(p) for p in pages)  # counts only what the caller sees


def test_searches_list_only_what_the_caller_may_read_in_full_pages(server: Server) -> None:
    alice, bob = server.alice, server.bob
    for i in range(4):  # names sort before bob's, so an unfiltered first page would be Alice's
        alice.ok(alice.post("/registered-models/create", {"name": f"a{i}"}))
        alice.ok(alice.post("/model-versions/create", {"name": f"a{i}", "source": f"runs:/{alice.run}/model"}))
        alice.ok(alice.post("/experiments/create", {"name": f"a-exp-{i}"}))
    for i in range(2):
        bob.ok(bob.post("/registered-models/create", {"name": f"b{i}"}))
        bob.ok(bob.post("/model-versions/create", {"name": f"b{i}", "source": f"runs:/{bob.run}/model"}))
        bob.ok(bob.post("/experiments/create", {"name": f"b-exp-{i}"}))

    models = _pages(bob, "GET", "/registered-models/search", "registered_models", {"max_results": 2})
    assert [len(p) for p in models] == [2, 1]
    assert sorted(m["name"] for p in models for m in p) == ["b0", "b1", "bob-model"]
    versions = _pages(bob, "GET", "/model-versions/search", "model_versions", {"max_results": 2})
    assert [len(p) for p in versions] == [2, 1]
    assert {v["name"] for p in versions for v in p} == {"b0", "b1", "bob-model"}
    assert {v["run_id"] for p in versions for v in p} == {bob.run}
    experiments = _pages(bob, "POST", "/experiments/search", "experiments", {"max_results": 2})
    assert [len(p) for p in experiments] == [2, 1]
    assert sorted(e["name"] for p in experiments for e in p) == ["b-exp-0", "b-exp-1", "bob-exp"]
    text = json.dumps([models, versions, experiments])
    assert alice.run not in text and "alice" not in text

    filtered = bob.ok(bob.get("/model-versions/search", filter=f"run_id = '{alice.run}'"))
    assert filtered.get("model_versions", []) == []
    # the per-model listings answer as for a model that does not exist
    assert bob.get("/registered-models/get-latest-versions", name=alice.model).status_code == 404
    assert bob.get("/registered-models/alias", name=alice.model, alias="champ").status_code == 404
    r = bob.post("/logged-models/search", {"experiment_ids": [alice.experiment]})
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    mine = bob.ok(bob.post("/logged-models/search", {"experiment_ids": [bob.experiment]}))
    assert [m["info"]["model_id"] for m in mine["models"]] == [bob.logged_model]
    # an admin still sees everyone's
    everything = server.admin.ok(server.admin.get("/registered-models/search", max_results=100))
    assert {"a0", "b0", "alice-model", "bob-model"} <= {m["name"] for m in everything["registered_models"]}


def test_a_version_needs_read_on_whatever_its_source_names(server: Server) -> None:
    alice, bob = server.alice, server.bob
    # a logged model of Bob's own that claims Alice's run is refused at creation
    r = bob.post("/logged-models", {"experiment_id": bob.experiment, "source_run_id": alice.run})
    assert r.status_code == 404, r.text
    attempts = [
        {"source": f"runs:/{alice.run}/model"},
        {"source": f"runs:/{bob.run}/model", "run_id": alice.run},
        {"source": f"mlflow-artifacts:/{bob.experiment}/{bob.run}/artifacts/model", "run_id": alice.run},
        {"source": f"models:/{alice.model}/1"},
        {"source": f"models:/{alice.model}@champ"},
        {"source": f"models:/{alice.logged_model}", "model_id": alice.logged_model},
        {"source": f"mlflow-artifacts:/{alice.experiment}/{alice.run}/artifacts/model"},
        {"source": f"mlflow-artifacts:/{alice.experiment}/models/{alice.logged_model}/artifacts"},
    ]
    for body in attempts:
        r = bob.post("/model-versions/create", {"name": bob.model, **body})
        assert r.status_code == 404, (body, r.text)
        assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST", body
    versions = bob.ok(bob.get("/model-versions/search", filter=f"name = '{bob.model}'"))["model_versions"]
    assert [v["version"] for v in versions] == ["1"]  # nothing was added
    assert "alice-commit" not in json.dumps(versions)
    # linking Bob's run to Alice's logged model is refused too
    r = bob.post("/runs/outputs", {"run_id": bob.run, "models": [{"model_id": alice.logged_model, "step": 0}]})
    assert r.status_code == 404, r.text
    # Bob's own sources still work, and an admin may register from anyone's run
    bob.ok(bob.post("/model-versions/create", {"name": bob.model, "source": f"models:/{bob.logged_model}",
                                               "model_id": bob.logged_model}))
    bob.ok(bob.post("/runs/outputs", {"run_id": bob.run, "models": [{"model_id": bob.logged_model, "step": 0}]}))
    mv = server.admin.ok(server.admin.post("/model-versions/create", {"name": bob.model,
                                                                      "source": f"runs:/{alice.run}/model"}))
    assert mv["model_version"]["version"] == "3"


def test_logged_model_tag_and_param_values_are_capped(server: Server) -> None:
    bob = server.bob
    created = bob.ok(bob.post("/logged-models", {
        "experiment_id": bob.experiment, "name": "big",
        "tags": [{"key": "big", "value": "a" * 20_000}], "params": [{"key": "p", "value": "b" * 10_000}]}))
    mid = created["model"]["info"]["model_id"]
    bob.ok(bob.http.patch(f"{API}/logged-models/{mid}/tags", json={"tags": [{"key": "more", "value": "c" * 50_000}]}))
    bob.ok(bob.http.post(f"{API}/logged-models/{mid}/params", json={"params": [{"key": "q", "value": "d" * 9_000}]}))
    info = bob.ok(bob.http.get(f"{API}/logged-models/{mid}"))["model"]
    tags = {t["key"]: t["value"] for t in info["info"]["tags"]}
    params = {p["key"]: p["value"] for p in info["data"]["params"]}
    assert (len(tags["big"]), len(tags["more"])) == (8000, 8000)  # as run tags are capped
    assert (len(params["p"]), len(params["q"])) == (6000, 6000)  # as run params are


def test_logged_model_like_runs_in_linear_time(server: Server) -> None:
    bob = server.bob
    created = bob.ok(bob.post("/logged-models", {
        "experiment_id": bob.experiment, "name": "big", "tags": [{"key": "big", "value": "a" * 8000}],
        "params": [{"key": "p", "value": "b" * 100}]}))
    mid = created["model"]["info"]["model_id"]

    # As a regular expression, '%a' * 20 + 'b' over 8,000 a's backtracks for hours (holding
    # the interpreter lock, so the whole server stalls); in SQL it is one pass.
    def search(flt: str) -> list[str]:
        r = bob.post("/logged-models/search", {"experiment_ids": [bob.experiment], "filter": flt})
        return [m["info"]["model_id"] for m in bob.ok(r).get("models", [])]

    assert search("tags.big LIKE '" + "%a" * 20 + "b'") == []
    assert search("tags.big ILIKE '" + "%A" * 20 + "B'") == []
    assert search("tags.big LIKE '%a%a%'") == [mid]
    assert search("name LIKE 'b_g' AND params.p LIKE 'b%'") == [mid]
    assert search("tags.big != 'x' AND name = 'big'") == [mid]
    assert search("tags.big LIKE 'A%'") == []  # LIKE is case-sensitive, as in MLflow
    for bad in ("name = big", "metrics.x > 1", "creation_timestamp LIKE '1%'", "name IN ('big')"):
        r = bob.post("/logged-models/search", {"experiment_ids": [bob.experiment], "filter": bad})
        assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (bad, r.text)
    assert bob.ok(bob.get("/experiments/get", experiment_id=bob.experiment))  # the server is not stalled


def _same_answer(a: httpx.Response, b: httpx.Response, ident_a: str, ident_b: str) -> None:
    assert (a.status_code, b.status_code) == (404, 404), (a.text, b.text)
    ja, jb = a.json(), b.json()
    assert ja["error_code"] == jb["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert ja["message"].replace(ident_a, "<id>") == jb["message"].replace(ident_b, "<id>"), (ja, jb)


def test_no_route_tells_someone_elses_resource_from_a_missing_one(server: Server) -> None:
    alice, bob = server.alice, server.bob
    missing_run, missing_model = "0" * 32, "m-" + "0" * 32
    by_params = [
        ("/experiments/get", "experiment_id", alice.experiment, "987654", {}),
        ("/experiments/get-by-name", "experiment_name", "alice-exp", "nobody-exp", {}),
        ("/runs/get", "run_id", alice.run, missing_run, {}),
        ("/metrics/get-history", "run_id", alice.run, missing_run, {"metric_key": "acc"}),
        ("/artifacts/list", "run_id", alice.run, missing_run, {}),
        ("/registered-models/get", "name", alice.model, "nobody-model", {}),
        ("/model-versions/get", "name", alice.model, "nobody-model", {"version": "1"}),
        ("/model-versions/get-download-uri", "name", alice.model, "nobody-model", {"version": "1"}),
        ("/registered-models/get-latest-versions", "name", alice.model, "nobody-model", {}),
        ("/registered-models/alias", "name", alice.model, "nobody-model", {"alias": "champ"}),
    ]
    for path, field, theirs, absent, extra in by_params:
        _same_answer(bob.get(path, **{field: theirs}, **extra), bob.get(path, **{field: absent}, **extra),
                     theirs, absent)
    _same_answer(bob.http.get(f"{API}/logged-models/{alice.logged_model}"),
                 bob.http.get(f"{API}/logged-models/{missing_model}"), alice.logged_model, missing_model)
    for path in ("/runs/search", "/logged-models/search"):
        _same_answer(bob.post(path, {"experiment_ids": [alice.experiment]}),
                     bob.post(path, {"experiment_ids": ["987654"]}), alice.experiment, "987654")
    _same_answer(bob.post("/runs/outputs", {"run_id": bob.run, "models": [{"model_id": alice.logged_model}]}),
                 bob.post("/runs/outputs", {"run_id": bob.run, "models": [{"model_id": missing_model}]}),
                 alice.logged_model, missing_model)
    _same_answer(bob.post("/model-versions/create", {"name": bob.model, "source": f"runs:/{alice.run}/model"}),
                 bob.post("/model-versions/create", {"name": bob.model, "source": f"runs:/{missing_run}/model"}),
                 alice.run, missing_run)
    theirs = f"{alice.experiment}/{alice.run}/artifacts/model/MLmodel"
    absent = f"987654/{alice.run}/artifacts/model/MLmodel"
    _same_answer(bob.http.get(f"{ART}/{theirs}"), bob.http.get(f"{ART}/{absent}"), theirs, absent)
    # READ without EDIT is a plain 403: the reader knows the experiment exists
    from stead.server.users import UserService
    from stead.store import open_store

    store = open_store(server.store_url)
    UserService(store).grant("bob", experiment_id=alice.experiment, level="READ")
    store.dispose()
    assert bob.get("/runs/get", run_id=alice.run).status_code == 200
    r = bob.post("/runs/set-tag", {"run_id": alice.run, "key": "k", "value": "v"})
    assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED"


def test_artifact_location_is_canonical_and_never_inside_another_experiment(server: Server) -> None:
    alice, bob, admin = server.alice, server.bob, server.admin
    root = server.home / "artifacts"
    refused = [
        (bob, f"mlflow-artifacts:/{alice.experiment}"),
        (bob, f"mlflow-artifacts:/{alice.experiment}/{alice.run}/artifacts"),
        (bob, f"mlflow-artifacts:///{alice.experiment}//x/"),
        (bob, "mlflow-artifacts:/team"),  # inside the server's store: only an admin chooses
        (bob, str(root / alice.experiment)),
        (admin, f"mlflow-artifacts:/{alice.experiment}/x"),
        (admin, "mlflow-artifacts:/"),
        (admin, "mlflow-artifacts:/pipelines/objects"),
        (admin, "mlflow-artifacts:/models"),
        (admin, "mlflow-artifacts:/.stead-tmp-x"),
        (admin, "mlflow-artifacts:/team/%2e%2e/1"),
        (admin, f"file://{root}/{alice.experiment}"),
    ]
    for i, (who, location) in enumerate(refused):
        r = who.post("/experiments/create", {"name": f"refused-{i}", "artifact_location": location})
        assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (location, r.text)
        assert str(root) not in r.text

    def location_of(who: Tenant, name: str, location: str) -> str:
        eid = who.ok(who.post("/experiments/create", {"name": name, "artifact_location": location}))["experiment_id"]
        return str(who.ok(who.get("/experiments/get", experiment_id=eid))["experiment"]["artifact_location"])

    assert location_of(admin, "team-a", "mlflow-artifacts:///team//a/") == "mlflow-artifacts:/team/a"
    assert location_of(bob, "bucket-x", "S3://Bucket/x//y/") == "s3://bucket/x/y"
    for i, location in enumerate(["mlflow-artifacts:/team", "mlflow-artifacts:/team/a/b", f"{root}/team/a",
                                  "s3://bucket/x", "s3://bucket/x/y/z"]):
        r = admin.post("/experiments/create", {"name": f"overlap-{i}", "artifact_location": location})
        assert r.status_code == 400 and "another experiment" in r.json()["message"], (location, r.text)
    assert location_of(admin, "team-b", "mlflow-artifacts:/team/b") == "mlflow-artifacts:/team/b"


def test_errors_never_show_the_artifact_root_or_the_store_url(server: Server) -> None:
    bob = server.bob
    responses = [
        bob.http.get(f"{ART}/{bob.experiment}/{bob.run}/artifacts/missing.txt"),
        bob.http.delete(f"{ART}/{bob.experiment}/{bob.run}/artifacts/missing.txt"),
        server.admin.http.get(f"{ART}/{bob.experiment}/{bob.run}/artifacts/missing.txt"),
        bob.post("/model-versions/create", {"name": bob.model, "source": str(server.home / "artifacts" / "x")}),
        bob.post("/model-versions/create", {"name": bob.model, "source": "/etc/passwd"}),
    ]
    private = [str(server.home), str(server.home.resolve()), server.store_url,
               server.store_url.replace("sqlite:///", "")]
    for r in responses:
        assert r.status_code in (400, 403, 404), r.text
        assert not any(p in r.text for p in private), r.text
    assert "the artifact store" in responses[0].json()["message"]


_MLFLOW_AS_BOB = """
import json, mlflow
client = mlflow.MlflowClient()
exp = mlflow.set_experiment("bob-new")  # get-by-name answers 404, so the client creates it
with mlflow.start_run() as run:
    mlflow.log_metric("m", 1.0)
print(json.dumps({
    "created": exp.name, "run_exp": run.info.experiment_id == exp.experiment_id,
    "alices_by_name": client.get_experiment_by_name("alice-exp"),
    "models": sorted(m.name for m in client.search_registered_models()),
    "versions": sorted({v.name for v in client.search_model_versions()}),
    "experiments": sorted(e.name for e in client.search_experiments()),
}))
"""


@pytest.mark.skipif(not os.environ.get("STEAD_TEST_MLFLOW_PYTHON"),
                    reason="set STEAD_TEST_MLFLOW_PYTHON to a python with mlflow==3.17.2")
def test_the_mlflow_client_sees_only_its_own(server: Server, tmp_path: Path) -> None:
    python = os.environ["STEAD_TEST_MLFLOW_PYTHON"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STEAD_"))}
    env.update(MLFLOW_TRACKING_URI=server.url, MLFLOW_TRACKING_USERNAME="bob", MLFLOW_TRACKING_PASSWORD=PASSWORD,
               MLFLOW_DISABLE_TELEMETRY="true", MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", GIT_PYTHON_REFRESH="quiet")
    proc = subprocess.run([python, "-c", _MLFLOW_AS_BOB], env=env, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"created": "bob-new", "run_exp": True, "alices_by_name": None, "models": ["bob-model"],
                   "versions": ["bob-model"], "experiments": ["bob-exp", "bob-new"]}


STEAD = "/api/stead/v1"


def _stead_pages(t: Tenant, path: str, key: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages, token = [], None
    while True:
        r = t.http.get(STEAD + path, params={**params, **({"page_token": token} if token else {})})
        data = t.ok(r)
        pages.append(data[key])
        token = data.get("next_page_token")
        if not token:
            return pages
        assert _offset(token) == sum(len(p) for p in pages)  # counts only what the caller sees


def test_deployments_show_only_those_whose_every_model_the_caller_may_read(server: Server) -> None:
    from stead.server.users import UserService
    from stead.serving.deployments import Deployments, Variant
    from stead.store import open_store

    alice, bob, admin = server.alice, server.bob, server.admin
    store = open_store(server.store_url)
    deployments = Deployments(store)
    deployments.create("a-churn", [Variant("main", f"{alice.model}@champ", 100)])
    deployments.create("b-churn", [Variant("main", f"{bob.model}@champ", 100)])
    deployments.create("c-mixed", [Variant("main", f"{bob.model}@champ", 90),
                                   Variant("canary", f"{alice.model}/1", 10)])
    deployments.create("d-shadow", [Variant("main", f"{bob.model}/1", 100),
                                    Variant("shadow", f"{alice.model}@champ", 0, shadow=True)])

    def names(t: Tenant) -> list[str]:
        return [d["name"] for d in t.ok(t.http.get(f"{STEAD}/deployments"))["deployments"]]

    assert names(bob) == ["b-churn"]
    assert names(alice) == ["a-churn"]
    assert names(admin) == ["a-churn", "b-churn", "c-mixed", "d-shadow"]
    assert alice.model not in bob.http.get(f"{STEAD}/deployments").text
    mine = bob.ok(bob.http.get(f"{STEAD}/deployments/b-churn"))["deployment"]
    assert mine["variants"][0]["model"] == "bob-model@champ"
    for theirs in ("a-churn", "c-mixed", "d-shadow"):
        _same_answer(bob.http.get(f"{STEAD}/deployments/{theirs}"), bob.http.get(f"{STEAD}/deployments/nobody"),
                     theirs, "nobody")
    assert admin.ok(admin.http.get(f"{STEAD}/deployments/c-mixed"))["deployment"]["name"] == "c-mixed"
    # READ on Alice's model opens the deployments that serve it beside Bob's own
    UserService(store).grant("bob", registered_model=alice.model, level="READ")
    store.dispose()
    assert names(bob) == ["a-churn", "b-churn", "c-mixed", "d-shadow"]
    assert bob.ok(bob.http.get(f"{STEAD}/deployments/c-mixed"))["deployment"]["name"] == "c-mixed"


def test_pipeline_runs_show_only_those_whose_tracked_experiments_the_caller_may_read(server: Server) -> None:
    from stead.pipelines.records import PipelineRecords, PipelineRun, StepRun
    from stead.server.users import UserService
    from stead.store import open_store

    alice, bob, admin = server.alice, server.bob, server.admin
    store = open_store(server.store_url)
    records = PipelineRecords(store)

    def add(tag: str, created: int, *tracked: str | None) -> None:
        run_id = tag.ljust(32, "z")
        run = PipelineRun(run_id, "train", "train.py:train", {"secret": run_id}, "local", "SUCCEEDED", created)
        records.create(run, [StepRun(run_id, f"s{i}", i, f"s{i}", "SUCCEEDED", tracking_run_id=t)
                             for i, t in enumerate(tracked)])

    # Alice's runs are the newest, so an unfiltered first page would hold only hers
    for i in range(3):
        add(f"b{i}", 100 + i, bob.run, None)
    add("a0", 200, alice.run)
    add("b0a", 201, None, alice.run)
    add("c0", 202, bob.run, alice.run)  # one step tracked in Alice's experiment
    add("e0", 203, None)  # tracked nothing: admins only
    add("f0", 204, "9" * 32)  # a tracked run that no longer exists

    pages = _stead_pages(bob, "/pipelines/runs", "runs", max_results=2)
    assert [len(p) for p in pages] == [2, 1]
    assert [r["run_id"].rstrip("z") for p in pages for r in p] == ["b2", "b1", "b0"]
    assert alice.run not in json.dumps(pages)
    hers = alice.ok(alice.http.get(f"{STEAD}/pipelines/runs"))["runs"]
    assert [r["run_id"].rstrip("z") for r in hers] == ["b0a", "a0"]
    everything = admin.ok(admin.http.get(f"{STEAD}/pipelines/runs", params={"max_results": 100}))["runs"]
    assert [r["run_id"].rstrip("z") for r in everything] == ["f0", "e0", "c0", "b0a", "a0", "b2", "b1", "b0"]

    missing = "d" * 32
    for theirs in (*(t.ljust(32, "z") for t in ("a0", "b0a", "c0", "e0", "f0")), "a0", "b0a"):  # ids, prefixes
        _same_answer(bob.http.get(f"{STEAD}/pipelines/runs/{theirs}"),
                     bob.http.get(f"{STEAD}/pipelines/runs/{missing}"), theirs, missing)
    # a prefix: Alice's b0a... does not make Bob's b0... ambiguous to him (it does to an admin)
    assert bob.ok(bob.http.get(f"{STEAD}/pipelines/runs/b0"))["run"]["run_id"] == "b0".ljust(32, "z")
    assert admin.http.get(f"{STEAD}/pipelines/runs/b0").status_code == 404
    assert admin.ok(admin.http.get(f"{STEAD}/pipelines/runs/e0"))["run"]["params"] == {"secret": "e0".ljust(32, "z")}
    # READ on Alice's experiment opens the runs tracked there (and beside Bob's own)
    UserService(store).grant("bob", experiment_id=alice.experiment, level="READ")
    store.dispose()
    pages = _stead_pages(bob, "/pipelines/runs", "runs", max_results=2)
    assert [r["run_id"].rstrip("z") for p in pages for r in p] == ["c0", "b0a", "a0", "b2", "b1", "b0"]

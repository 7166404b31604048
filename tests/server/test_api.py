"""The MLflow REST API in-process, on SQLite and PostgreSQL: shapes, defaults, errors."""

from __future__ import annotations

import re

import pytest

API = "/api/2.0/mlflow"


def _create_run(api, exp="0", **extra):  # type: ignore[no-untyped-def]
    r = api.post(f"{API}/runs/create", json={"experiment_id": exp, "run_name": "r", "start_time": 1, **extra})
    assert r.status_code == 200, r.text
    return r.json()["run"]["info"]["run_id"]


def test_experiment_lifecycle(api):
    r = api.post(f"{API}/experiments/create", json={"name": "e1", "tags": [{"key": "a", "value": "b"}]})
    assert r.status_code == 200
    eid = r.json()["experiment_id"]
    exp = api.get(f"{API}/experiments/get", params={"experiment_id": eid}).json()["experiment"]
    assert exp["name"] == "e1" and exp["lifecycle_stage"] == "active"
    assert exp["artifact_location"] == f"mlflow-artifacts:/{eid}"
    assert exp["tags"] == [{"key": "a", "value": "b"}]
    assert api.get(f"{API}/experiments/get-by-name", params={"experiment_name": "e1"}).json()["experiment"]["experiment_id"] == eid
    assert api.post(f"{API}/experiments/update", json={"experiment_id": eid, "new_name": "e2"}).json() == {}
    assert api.post(f"{API}/experiments/delete", json={"experiment_id": eid}).status_code == 200
    found = api.post(f"{API}/experiments/search", json={"view_type": "DELETED_ONLY"}).json()["experiments"]
    assert [e["name"] for e in found] == ["e2"]
    assert api.post(f"{API}/experiments/restore", json={"experiment_id": eid}).status_code == 200
    via_get = api.get(f"{API}/experiments/search", params={"filter": "name = 'e2'"}).json()
    assert [e["experiment_id"] for e in via_get["experiments"]] == [eid]


def test_ajax_alias_and_server_info(api):
    assert api.get("/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}).status_code == 200
    info = api.get("/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is False
    assert api.post(f"{API}/logged-models/search", json={"experiment_ids": ["0"]}).json() == {}
    assert api.post(f"{API}/logged-models/search", json={}).status_code == 400  # experiment_ids is required


def test_run_logging_and_history_pages(api):
    run_id = _create_run(api)
    batch = {"run_id": run_id, "metrics": [{"key": "m", "value": float(i), "timestamp": i, "step": i} for i in range(25)],
             "params": [{"key": "p", "value": "1"}], "tags": [{"key": "t", "value": "v"}]}
    assert api.post(f"{API}/runs/log-batch", json=batch).json() == {}
    assert api.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "n", "value": "NaN", "timestamp": "5"}).status_code == 200
    run = api.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert metrics["m"]["value"] == 24.0 and metrics["n"]["value"] == "NaN"
    steps, token = [], None
    while True:
        q = {"run_id": run_id, "metric_key": "m", "max_results": 10, **({"page_token": token} if token else {})}
        body = api.get(f"{API}/metrics/get-history", params=q).json()
        steps.append([m["step"] for m in body["metrics"]])
        token = body.get("next_page_token")
        if not token:
            break
    assert [len(s) for s in steps] == [10, 10, 5] and sum(steps, []) == list(range(25))
    full = api.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}).json()
    assert len(full["metrics"]) == 25 and "next_page_token" not in full
    bulk = api.get(f"{API}/metrics/get-history-bulk-interval",
                   params={"run_ids": run_id, "metric_key": "m", "max_results": 5}).json()["metrics"]
    assert 5 <= len(bulk) <= 6 and bulk[-1]["step"] == 24 and bulk[0]["run_id"] == run_id
    info = api.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 9}).json()
    assert info["run_info"]["status"] == "FINISHED" and info["run_info"]["end_time"] == 9


def test_search_runs_paging(api):
    ids = [_create_run(api) for _ in range(5)]
    seen, token = [], None
    while True:
        body = api.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "max_results": 2,
                                                     **({"page_token": token} if token else {})}).json()
        seen += [r["info"]["run_id"] for r in body.get("runs", [])]
        token = body.get("next_page_token")
        if not token:
            break
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/experiments/get", {"experiment_id": "424242"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("GET", "/experiments/get", {}, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/experiments/get-by-name", {"experiment_name": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("POST", "/experiments/create", {}, 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/experiments/create", {"name": "Default"}, 400, "RESOURCE_ALREADY_EXISTS"),
        ("GET", "/runs/get", {"run_id": "0" * 32}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("POST", "/runs/search", {"experiment_ids": ["0"], "filter": "metrics.x >>> 1"}, 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/runs/log-batch", {"run_id": "0" * 32, "params": [{"key": f"k{i}", "value": "v"} for i in range(101)]},
         400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/metrics/get-history", {"run_id": "0" * 32, "metric_key": "m", "max_results": 0}, 400,
         "INVALID_PARAMETER_VALUE"),
    ],
)
def test_error_shapes(api, method, path, body, status, code):
    r = api.get(API + path, params=body) if method == "GET" else api.post(API + path, json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error_code"] == code and r.json()["message"]


def test_failed_batch_leaves_store_unchanged(api):
    run_id = _create_run(api)
    bad = {"run_id": run_id, "metrics": [{"key": "ok", "value": 1, "timestamp": 1}, {"key": "../bad", "value": 1, "timestamp": 1}],
           "params": [{"key": "p", "value": "1"}]}
    assert api.post(f"{API}/runs/log-batch", json=bad).status_code == 400
    data = api.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert "metrics" not in data and "params" not in data


def test_unknown_endpoint_and_method_are_json(api):
    r = api.get(f"{API}/nope")
    assert r.status_code == 404 and r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    r = api.get(f"{API}/experiments/create")
    assert r.status_code == 405 and r.json()["error_code"] == "BAD_REQUEST"


def test_internal_errors_hide_tracebacks(api, monkeypatch):
    ctx = api.app.state.ctx

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals /etc/shadow")

    monkeypatch.setattr(ctx.backend, "get_experiment", boom)
    r = api.get(f"{API}/experiments/get", params={"experiment_id": "0"})
    assert r.status_code == 500
    assert r.json()["error_code"] == "INTERNAL_ERROR"
    assert "secret" not in r.text and "Traceback" not in r.text


def test_openapi_describes_every_endpoint(api):
    doc = api.get("/openapi.json").json()
    for prefix, endpoints in api.app.state.api_tables:  # the UI's pages are not part of the API document
        for e in endpoints:
            path = re.sub(r"{(\w+):path}", r"{\1}", prefix + e.path)
            assert e.method.lower() in doc["paths"][path], path
            declared = {p["name"] for p in doc["paths"][path][e.method.lower()].get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path  # every path parameter is declared


def test_checked_in_openapi_matches(api):
    """The OpenAPI document is a contract: docs/openapi.json must equal what the code serves."""
    import json
    from pathlib import Path

    checked_in = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
    served = api.get("/openapi.json").json()
    assert json.loads(checked_in.read_text()) == served, (
        "docs/openapi.json is stale: regenerate with python -m stead.server.app > docs/openapi.json"
    )

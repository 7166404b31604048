"""Every endpoint and input format of one `stead serve models:/churn@production` process."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from serving_helpers import COLUMNS, Home, expected, rows
from server_process import free_port, run_server


@pytest.fixture(scope="module")
def url(sqlite_home: Home, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "serve", "models:/churn@production",
            "--port", str(port), "--max-body-bytes", "100000"]
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with run_server(argv, port, sqlite_home.env(), health_path="/v2/health/ready", log_path=log) as u:
        yield u


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return rows(5)


@pytest.fixture(scope="module")
def want(sqlite_home: Home, x: np.ndarray) -> list[int]:
    return expected(sqlite_home, 1, x)


# ---- Open Inference Protocol ------------------------------------------------------------
def test_v2_health_and_metadata(url: str) -> None:
    assert httpx.get(f"{url}/v2/health/live").json() == {"live": True}
    assert httpx.get(f"{url}/v2/health/ready").json() == {"ready": True, "variants": {"default": "live"}}
    assert httpx.get(f"{url}/v2/models/churn/ready").json() == {"name": "churn", "ready": True,
                                                                "variants": {"default": "live"}}
    assert httpx.get(f"{url}/v2/models/churn/versions/1/ready").status_code == 200
    server = httpx.get(f"{url}/v2").json()
    assert server["name"] == "stead" and isinstance(server["extensions"], list)
    meta = httpx.get(f"{url}/v2/models/churn").json()
    assert meta["name"] == "churn" and meta["versions"] == ["1"] and meta["platform"]
    assert [i["name"] for i in meta["inputs"]] == COLUMNS
    assert {i["datatype"] for i in meta["inputs"]} == {"FP64"} and meta["inputs"][0]["shape"] == [-1]
    assert meta["outputs"][0]["datatype"] == "INT64"
    assert httpx.get(f"{url}/v2/models/churn/versions/1").json()["name"] == "churn"
    assert httpx.get(f"{url}/v2/models").json() == {"models": ["churn"]}


def test_v2_unknown_model_or_version_is_404(url: str) -> None:
    for path in ("/v2/models/nope", "/v2/models/churn/versions/9", "/v2/models/nope/ready"):
        r = httpx.get(url + path)
        assert r.status_code == 404 and "error" in r.json()
    body = {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}
    r = httpx.post(f"{url}/v2/models/nope/infer", json=body)
    assert r.status_code == 404 and "nope" in r.json()["error"]


@pytest.mark.parametrize("nested", [True, False])
def test_v2_infer_one_2d_tensor_flat_or_nested(url: str, x: np.ndarray, want: list[int], nested: bool) -> None:
    data = x.tolist() if nested else x.ravel().tolist()
    body = {"id": "req-7", "parameters": {"trace": True},
            "inputs": [{"name": "input-0", "shape": [5, 3], "datatype": "FP64", "data": data}]}
    r = httpx.post(f"{url}/v2/models/churn/infer", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model_name"] == "churn" and out["model_version"] == "1" and out["id"] == "req-7"
    assert out["outputs"] == [{"name": "predict", "shape": [5], "datatype": "INT64", "data": want}]
    assert r.headers["x-stead-model-version"] == "1"


def test_v2_infer_named_column_tensors_and_versioned_route(url: str, x: np.ndarray, want: list[int]) -> None:
    body = {"inputs": [{"name": c, "shape": [5], "datatype": "FP32", "data": x[:, i].astype(np.float32).tolist()}
                       for i, c in enumerate(COLUMNS)]}
    r = httpx.post(f"{url}/v2/models/churn/versions/1/infer", json=body)
    assert r.status_code == 200, r.text
    got = r.json()["outputs"][0]["data"]
    assert np.mean(np.array(got) == np.array(want)) >= 0.8  # FP32 rounding may flip a borderline row
    assert r.json()["id"]  # an id is generated when the request has none


def test_v2_infer_named_outputs(url: str, x: np.ndarray, want: list[int]) -> None:
    body = {"inputs": [{"name": "input-0", "shape": [5, 3], "datatype": "FP64", "data": x.tolist()}],
            "outputs": [{"name": "predict"}, {"name": "predict_proba"}]}
    out = httpx.post(f"{url}/v2/models/churn/infer", json=body).json()["outputs"]
    assert [o["name"] for o in out] == ["predict", "predict_proba"]
    assert out[0]["data"] == want and out[1]["shape"] == [5, 2]
    probs = np.array(out[1]["data"]).reshape(5, 2)
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs.argmax(axis=1) == np.array(want)).all()
    r = httpx.post(f"{url}/v2/models/churn/infer", json={**body, "outputs": [{"name": "embedding"}]})
    assert r.status_code == 400 and r.json()["fields"] == [{"name": "embedding", "problem": "unknown output"}]


@pytest.mark.parametrize("inputs, field, problem", [
    ([{"name": "age", "shape": [1], "datatype": "FP64", "data": [1.0]},
      {"name": "spend", "shape": [1], "datatype": "FP64", "data": [1.0]}], "tenure", "missing"),
    ([{"name": c, "shape": [1], "datatype": "FP64", "data": [1.0]} for c in [*COLUMNS, "zip"]], "zip", "unexpected"),
    ([{"name": "age", "shape": [1], "datatype": "BYTES", "data": ["old"]},
      {"name": "tenure", "shape": [1], "datatype": "FP64", "data": [1.0]},
      {"name": "spend", "shape": [1], "datatype": "FP64", "data": [1.0]}], "age", "is string but the signature wants double"),
    ([{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}], "input", "has 4 columns"),
    ([{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3]}], "x", "data does not match shape"),
    ([{"name": "x", "shape": [1, 3], "datatype": "COMPLEX", "data": [1, 2, 3]}], "x", "unknown datatype"),
    ([{"name": "x", "shape": [1, 3], "datatype": "INT64", "data": ["a", "b", "c"]}], "x", "data is not INT64"),
])
def test_v2_bad_inputs_name_each_field(url: str, inputs: list, field: str, problem: str) -> None:
    r = httpx.post(f"{url}/v2/models/churn/infer", json={"inputs": inputs})
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "fields"}
    assert any(f["name"] == field and problem in f["problem"] for f in body["fields"]), body


def test_v2_malformed_bodies(url: str) -> None:
    for content in (b"{", b"[]", b'{"inputs": []}', b'{"inputs": [{"name": "x"}]}'):
        r = httpx.post(f"{url}/v2/models/churn/infer", content=content)
        assert r.status_code == 400 and isinstance(r.json()["error"], str)


# ---- MLflow scoring ---------------------------------------------------------------------
def test_mlflow_health_routes(url: str) -> None:
    assert httpx.get(f"{url}/ping").status_code == 200
    assert httpx.get(f"{url}/health").text == "\n"
    assert httpx.get(f"{url}/version").text


def test_mlflow_every_json_format(url: str, x: np.ndarray, want: list[int]) -> None:
    records = [dict(zip(COLUMNS, r)) for r in x.tolist()]
    bodies = [
        {"dataframe_split": {"columns": COLUMNS, "data": x.tolist()}},
        {"dataframe_split": {"columns": COLUMNS[::-1], "data": x[:, ::-1].tolist(), "index": list(range(5))}},
        {"dataframe_records": records},
        {"instances": records},
        {"instances": x.tolist()},
        {"inputs": {c: x[:, i].tolist() for i, c in enumerate(COLUMNS)}},
        {"inputs": x.tolist()},
        {"inputs": records, "params": {}},
    ]
    for body in bodies:
        r = httpx.post(f"{url}/invocations", json=body)
        assert r.status_code == 200, (body, r.text)
        assert r.json() == {"predictions": want}, body


def test_mlflow_csv(url: str, x: np.ndarray, want: list[int]) -> None:
    csv = ",".join(COLUMNS) + "\n" + "\n".join(",".join(repr(v) for v in r) for r in x.tolist()) + "\n"
    r = httpx.post(f"{url}/invocations", content=csv, headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": want}


def test_mlflow_integer_features_are_accepted_for_double_columns(url: str) -> None:
    r = httpx.post(f"{url}/invocations", json={"dataframe_split": {"columns": COLUMNS, "data": [[1, 2, 3]]}})
    assert r.status_code == 200 and len(r.json()["predictions"]) == 1


@pytest.mark.parametrize("body, fields", [
    ({"dataframe_records": [{"age": 1.0, "tenure": 2.0}]}, [{"name": "spend", "problem": "missing"}]),
    ({"dataframe_records": [{"age": 1.0, "tenure": 2.0, "spend": 3.0, "zip": 1.0}]},
     [{"name": "zip", "problem": "unexpected"}]),
    ({"dataframe_split": {"columns": COLUMNS, "data": [[1.0, "two", 3.0]]}},
     [{"name": "tenure", "problem": "is string but the signature wants double"}]),
    ({"dataframe_records": [{"age": 1.0, "tenure": None, "spend": 3.0}]},
     [{"name": "tenure", "problem": "is missing values but the signature wants double"}]),
])
def test_mlflow_signature_errors_name_each_field(url: str, body: dict, fields: list) -> None:
    r = httpx.post(f"{url}/invocations", json=body)
    assert r.status_code == 400, r.text
    out = r.json()
    assert out["error_code"] == "BAD_REQUEST" and out["fields"] == fields
    for f in fields:
        assert f["name"] in out["message"]


def test_mlflow_protocol_errors(url: str) -> None:
    r = httpx.post(f"{url}/invocations", json={"columns": ["a"], "data": [[1]]})
    assert r.status_code == 400 and r.json()["error_code"] == "BAD_REQUEST"
    assert "scoring protocol changed in MLflow 2.0" in r.json()["message"]
    r = httpx.post(f"{url}/invocations", json={"dataframe_split": {"columns": COLUMNS, "data": [[1, 2, 3]]},
                                               "inputs": [[1, 2, 3]]})
    assert r.status_code == 400 and "exactly one" in r.json()["message"]
    r = httpx.post(f"{url}/invocations", content=b"a=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"  # a browser form's type
    r = httpx.post(f"{url}/invocations", content=b"a", headers={"content-type": "application/xml"})
    assert r.status_code == 400 and "content types" in r.json()["message"]
    r = httpx.post(f"{url}/invocations", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error_code"] == "BAD_REQUEST"


def test_body_limit_is_413(url: str) -> None:
    big = {"dataframe_split": {"columns": COLUMNS, "data": rows(3000).tolist()}}
    r = httpx.post(f"{url}/invocations", json=big)
    assert r.status_code == 413 and r.json()["error_code"] == "REQUEST_TOO_LARGE"
    r = httpx.post(f"{url}/v2/models/churn/infer", content=b"x" * 200_000)
    assert r.status_code == 413 and "limit" in r.json()["error"]


def test_metrics_are_prometheus_text_with_labels(url: str) -> None:
    httpx.post(f"{url}/invocations", json={"dataframe_split": {"columns": COLUMNS, "data": [[1, 2, 3]]}})
    httpx.post(f"{url}/invocations", json={"dataframe_records": [{"age": 1}]})
    r = httpx.get(f"{url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {"stead_serving_requests", "stead_serving_errors", "stead_serving_request_duration_seconds",
            "stead_serving_batch_size", "stead_serving_model_ready"} <= set(families)
    ok = [s for s in families["stead_serving_requests"].samples
          if s.name == "stead_serving_requests_total" and s.labels["code"] == "200" and s.labels["protocol"] == "mlflow"]
    assert ok and ok[0].labels["deployment"] == "churn" and ok[0].labels["model_version"] == "1"
    assert ok[0].labels["variant"] == "default" and ok[0].value >= 1
    errors = [s for s in families["stead_serving_errors"].samples if s.name.endswith("_total") and s.labels["kind"] == "client"]
    assert errors and errors[0].value >= 1

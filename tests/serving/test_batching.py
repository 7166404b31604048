"""Adaptive batching, model errors, timeouts: real server processes."""

from __future__ import annotations

import asyncio
import time

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from serving_helpers import COLUMNS, Home, expected, register_python_model, rows


def _batch_histogram(url: str) -> tuple[float, float]:
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        if family.name == "stead_serving_batch_size":
            count = sum(s.value for s in family.samples if s.name.endswith("_count"))
            total = sum(s.value for s in family.samples if s.name.endswith("_sum"))
            return count, total
    return 0.0, 0.0


def test_concurrent_requests_are_batched_and_answered_correctly(sqlite_home: Home, serve) -> None:
    n = 16
    xs = [rows(3, seed=100 + i) for i in range(n)]
    wants = [expected(sqlite_home, 1, x) for x in xs]
    with serve(sqlite_home, "models:/churn@production", "--max-batch-size", str(n), "--max-latency-ms", "500") as url:
        async def fire() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=n)) as client:
                return await asyncio.gather(*[
                    client.post(f"{url}/invocations", json={"dataframe_split": {"columns": COLUMNS, "data": x.tolist()}})
                    for x in xs])

        answers = asyncio.run(fire())
        assert [r.status_code for r in answers] == [200] * n
        assert [r.json()["predictions"] for r in answers] == wants  # each request gets its own rows back
        batches, requests = _batch_histogram(url)
        assert requests == n and batches < n / 2, (batches, requests)


def test_batching_off_runs_one_request_at_a_time(sqlite_home: Home, serve) -> None:
    with serve(sqlite_home, "models:/churn@production", "--max-batch-size", "1") as url:
        for i in range(3):
            r = httpx.post(f"{url}/invocations", json={"inputs": rows(2, seed=i).tolist()})
            assert r.status_code == 200
        assert _batch_histogram(url) == (3.0, 3.0)


def test_model_error_is_500_and_the_server_keeps_serving(tmp_path, serve) -> None:
    from serving_helpers import make_home

    home = make_home(tmp_path / "h", f"sqlite:///{tmp_path / 'h' / 'stead.db'}")
    register_python_model(home)
    with serve(home, "models:/quirky@production", "--timeout", "0.3", "--trust-pickle") as url:
        r = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"x": 5000.0}]})
        assert r.status_code == 500 and r.json()["error_code"] == "INTERNAL_ERROR"
        assert "x is too large" in r.json()["message"]
        r = httpx.post(f"{url}/v2/models/quirky/infer",
                       json={"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [5000.0]}]})
        assert r.status_code == 500 and "x is too large" in r.json()["error"]
        # ValueError: the model refused the input, a 400 naming the model and what it said
        r = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"x": -5000.0}]})
        assert r.status_code == 400 and r.json()["error_code"] == "BAD_REQUEST"
        assert "Model quirky version 1 (variant default) refused the input: ValueError: x must be at least -1000" \
            in r.json()["message"], r.json()
        r = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"x": 2.0}]})
        assert r.status_code == 200 and r.json() == {"predictions": [4.0]}
        # a slow prediction: 504 as MLflow answers, then the server answers again
        r = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"x": -1.0}]})
        assert r.status_code == 504 and r.json()["message"] == "Request processing time exceeded limit"
        deadline = time.monotonic() + 10
        while True:  # the model thread is busy until the slow call ends; poll, bounded
            r = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"x": 3.0}]})
            if r.status_code == 200 or time.monotonic() > deadline:
                break
        assert r.status_code == 200 and r.json() == {"predictions": [6.0]}
        text = httpx.get(f"{url}/metrics").text
        assert 'kind="timeout"' in text and 'kind="server"' in text


def test_inference_before_model_name_matches(sqlite_home: Home, serve) -> None:
    with serve(sqlite_home, "models:/churn/2", "--name", "churn-v2") as url:
        meta = httpx.get(f"{url}/v2/models/churn-v2").json()
        assert meta["versions"] == ["2"]
        x = rows(4)
        r = httpx.post(f"{url}/v2/models/churn-v2/infer",
                       json={"inputs": [{"name": "t", "shape": [4, 3], "datatype": "FP64", "data": x.ravel().tolist()}]})
        assert r.json()["outputs"][0]["data"] == expected(sqlite_home, 2, x)
        assert np.asarray(r.json()["outputs"][0]["data"]).shape == (4,)

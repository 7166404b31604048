"""A model that refuses its input (scikit-learn's "Input X contains NaN") answers 400 naming the
model and what it said, a model that takes NaN answers 200, and on the batched path one bad
request fails alone: real ``stead serve`` processes."""

from __future__ import annotations

import asyncio
import json

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from serving_helpers import COLUMNS, Home, _register, expected, make_home, rows, training_data

NAN_V2 = b'{"inputs": [{"name": "input-0", "shape": [2, 3], "datatype": "FP64", "data": [0.1, NaN, 0.3, 1, 2, 3]}]}'
NAN_CSV = b"age,tenure,spend\n0.1,nan,0.3\n"
CSV = {"content-type": "text/csv"}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """``churn`` (LogisticRegression, refuses NaN; read by NumPy, run on the event loop),
    ``hgb`` (HistGradientBoostingClassifier, takes NaN) and ``knn`` (KNeighborsClassifier,
    refuses NaN; pickled, run in the model's thread)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neighbors import KNeighborsClassifier

    path = tmp_path_factory.mktemp("refusals-home")
    home = make_home(path, f"sqlite:///{path / 'stead.db'}")
    x, y = training_data()
    for name, model in (("hgb", HistGradientBoostingClassifier(max_iter=10)), ("knn", KNeighborsClassifier())):
        version = _register(home, model.fit(x, y), x.iloc[:2], name)
        home.registry().set_alias(name, "production", version)
    return home


def _binary_nan(value: float = np.nan) -> tuple[bytes, dict[str, str]]:
    """A V2 request with binary tensor data: one row whose second value is ``value``."""
    raw = np.array([[0.1, value, 0.3]], dtype="<f8").tobytes()
    head = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP64",
                                   "parameters": {"binary_data_size": len(raw)}}]}).encode()
    return head + raw, {"content-type": "application/octet-stream", "inference-header-content-length": str(len(head))}


def _errors(url: str) -> dict[str, float]:
    got: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        if family.name == "stead_serving_errors":
            for s in family.samples:
                got[s.labels["kind"]] = got.get(s.labels["kind"], 0.0) + s.value
    return got


def _batches(url: str) -> float:
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        if family.name == "stead_serving_batch_size":
            return sum(s.value for s in family.samples if s.name.endswith("_count"))
    return 0.0


def test_nan_is_a_400_naming_the_model_for_a_model_that_refuses_it(models_home: Home, serve) -> None:
    with serve(models_home, "models:/churn@production") as url:
        body, headers = _binary_nan()
        r = httpx.post(f"{url}/v2/models/churn/infer", content=body, headers=headers)
        assert r.status_code == 400, r.text
        message = r.json()["error"]
        assert "Model churn version 1 (variant default) refused the input" in message
        assert "Input X contains NaN" in message and "Traceback" not in message

        body, headers = _binary_nan(np.inf)
        r = httpx.post(f"{url}/v2/models/churn/infer", content=body, headers=headers)
        assert r.status_code == 400 and "infinity" in r.json()["error"], r.text

        # JSON has no NaN: the literal is refused before any model sees it
        r = httpx.post(f"{url}/v2/models/churn/infer", content=NAN_V2, headers=JSON)
        assert r.status_code == 400 and "not valid JSON" in r.json()["error"], r.text

        r = httpx.post(f"{url}/invocations", content=NAN_CSV, headers=CSV)
        assert r.status_code == 400, r.text
        assert r.json()["error_code"] == "BAD_REQUEST" and "Input X contains NaN" in r.json()["message"]

        r = httpx.post(f"{url}/invocations", json={"inputs": rows(2).tolist()})  # the server goes on
        assert r.status_code == 200 and r.json()["predictions"] == expected(models_home, 1, rows(2))
        assert _errors(url) == {"client": 4.0}


def test_a_model_that_takes_nan_answers_it(models_home: Home, serve) -> None:
    with serve(models_home, "models:/hgb@production", "--trust-pickle") as url:
        body, headers = _binary_nan()
        r = httpx.post(f"{url}/v2/models/hgb/infer", content=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["outputs"][0]["shape"] == [1] and r.json()["outputs"][0]["data"][0] in (0, 1)
        r = httpx.post(f"{url}/invocations", content=NAN_CSV, headers=CSV)
        assert r.status_code == 200 and len(r.json()["predictions"]) == 1, r.text


@pytest.mark.parametrize("model", ["churn", "knn"])  # batches run on the event loop / in the model's thread
def test_one_bad_request_in_a_batch_fails_alone(models_home: Home, serve, model: str) -> None:
    n = 16
    bad = set(range(1, n, 4))  # 4 requests with NaN (binary V2 and CSV) among 12 good ones
    xs = [rows(2, seed=200 + i) for i in range(n)]
    with serve(models_home, f"models:/{model}@production", "--trust-pickle", "--max-batch-size", str(n),
               "--max-latency-ms", "1000") as url:
        async def send(client: httpx.AsyncClient, i: int) -> httpx.Response:
            if i not in bad:
                return await client.post(f"{url}/invocations", json={"dataframe_split": {
                    "columns": COLUMNS, "data": xs[i].tolist()}})
            if i % 8 == 1:
                body, headers = _binary_nan()
                return await client.post(f"{url}/v2/models/{model}/infer", content=body, headers=headers)
            return await client.post(f"{url}/invocations", content=NAN_CSV, headers=CSV)

        async def fire() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=n)) as client:
                return await asyncio.gather(*[send(client, i) for i in range(n)])

        answers = asyncio.run(fire())
        assert [r.status_code for r in answers] == [400 if i in bad else 200 for i in range(n)], \
            [r.text for r in answers]
        for i, r in enumerate(answers):
            if i in bad:
                assert "Input X contains NaN" in (r.json().get("error") or r.json()["message"])
            else:
                assert r.json()["predictions"] == _expected(models_home, model, xs[i])
        assert _batches(url) < n / 2  # the requests did share batches
        assert _errors(url) == {"client": float(len(bad))}  # each bad request counted once


def _expected(home: Home, model: str, x: np.ndarray) -> list[int]:
    if model == "churn":
        return expected(home, 1, x)
    from stead.models.pyfunc import load_model
    from stead.tracking.client import TrackingClient

    import pandas as pd

    loaded = load_model(f"models:/{model}/1", client=TrackingClient(home.settings()), trust=True)
    return loaded.predict(pd.DataFrame(x, columns=COLUMNS)).tolist()

"""Triton's own V2 client, `tritonclient.http`, against a real `stead serve` process.

With its defaults the client sends every input tensor as binary data after the JSON header
(``Inference-Header-Content-Length``) and asks for every output as binary data
(``binary_data_output``); it may also ask per output (``binary_data``) or send JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from serving_helpers import COLUMNS, Home, expected, rows
from server_process import free_port, run_server

import tritonclient.http as tritonclient_http
from tritonclient.utils import InferenceServerException, triton_to_np_dtype


@pytest.fixture(scope="module")
def url(sqlite_home: Home, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "serve", "models:/churn@production",
            "--port", str(port)]
    env = {**sqlite_home.env(), "STEAD_TRUST_PICKLE": "1"}
    log = tmp_path_factory.mktemp("triton-serve") / "serve.log"
    with run_server(argv, port, env, health_path="/v2/health/ready", log_path=log) as u:
        yield u


@pytest.fixture(scope="module")
def client(url: str) -> Iterator[object]:
    c = tritonclient_http.InferenceServerClient(url.removeprefix("http://"))
    try:
        yield c
    finally:
        c.close()


def _input(name: str, arr: np.ndarray, datatype: str, binary: bool = True) -> object:
    t = tritonclient_http.InferInput(name, list(arr.shape), datatype)
    t.set_data_from_numpy(arr, binary_data=binary)
    return t


def test_health_and_metadata(client: object) -> None:
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("churn")
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    meta = client.get_model_metadata("churn")
    assert [i["name"] for i in meta["inputs"]] == COLUMNS


def test_defaults_binary_inputs_and_binary_outputs(client: object, sqlite_home: Home) -> None:
    x = rows(7, seed=3)
    result = client.infer("churn", [_input("input-0", x, "FP64")])
    out = result.get_response()["outputs"][0]
    assert "data" not in out and out["parameters"]["binary_data_size"] == 7 * 8  # INT64, as binary
    assert result.as_numpy(out["name"]).tolist() == expected(sqlite_home, 1, x)


@pytest.mark.parametrize("datatype", ["FP32", "FP16", "INT32", "INT8", "UINT16"])
def test_named_column_tensors_of_every_numeric_type(client: object, sqlite_home: Home, datatype: str) -> None:
    x = np.round(rows(4, seed=5) * 10)
    dtype = triton_to_np_dtype(datatype)
    if np.dtype(dtype).kind == "u":
        x = np.abs(x)
    tensors = [_input(c, x[:, i].astype(dtype), datatype) for i, c in enumerate(COLUMNS)]
    result = client.infer("churn", tensors)
    assert result.as_numpy("predict").tolist() == expected(sqlite_home, 1, x.astype(dtype).astype(np.float64))


def test_outputs_asked_for_one_by_one(client: object, sqlite_home: Home) -> None:
    x = rows(3, seed=4)
    outputs = [tritonclient_http.InferRequestedOutput("predict", binary_data=False),
               tritonclient_http.InferRequestedOutput("predict_proba", binary_data=True)]
    result = client.infer("churn", [_input("input-0", x, "FP64")], outputs=outputs, request_id="r-7")
    response = result.get_response()
    assert response["id"] == "r-7" and response["model_name"] == "churn"
    by_name = {o["name"]: o for o in response["outputs"]}
    assert by_name["predict"]["data"] == expected(sqlite_home, 1, x)  # JSON, as asked
    assert by_name["predict_proba"]["parameters"]["binary_data_size"] == 3 * 2 * 8
    proba = result.as_numpy("predict_proba")
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1), 1.0)


def test_json_inputs_and_json_outputs(client: object, sqlite_home: Home) -> None:
    x = rows(2, seed=6)
    result = client.infer("churn", [_input("input-0", x, "FP64", binary=False)],
                          outputs=[tritonclient_http.InferRequestedOutput("predict", binary_data=False)])
    assert result.as_numpy("predict").tolist() == expected(sqlite_home, 1, x)


def test_a_bad_request_is_a_clear_client_error(client: object) -> None:
    with pytest.raises(InferenceServerException) as info:
        client.infer("churn", [_input("input-0", rows(2)[:, :2].copy(), "FP64")])
    assert info.value.status() == "400" and "has 2 columns but the signature wants 3" in info.value.message()


@pytest.mark.parametrize("body", [
    b'{"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "INT8", "data": [1, 2, 300]}]}',
    b'{"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 1e39]}]}',
    b'{"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 1e400]}]}',
    b'{"inputs": [{"name": "input-0", "shape": [4294967296, 4294967296], "datatype": "FP64", "data": [1]}]}',
    b'{"inputs": [{"name": "input-0", "shape": [3, -1], "datatype": "FP64", "data": [1, 2, 3]}]}',
    b'{"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP64", "data": ' + b"[" * 3000 + b"]" * 3000 + b"}]}",
])
def test_impossible_v2_requests_are_400_over_http(url: str, body: bytes) -> None:
    r = httpx.post(f"{url}/v2/models/churn/infer", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert set(r.json()) <= {"error", "fields"} and "Traceback" not in r.text


def test_a_binary_request_with_a_bad_header_length_is_400(url: str) -> None:
    head = b'{"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP64", "parameters": {"binary_data_size": 24}}]}'
    body = head + np.zeros(3).tobytes()
    for length, message in [(str(len(head) + 1), "not valid JSON"), ("many", "must be a byte count"),
                            (str(len(body) + 5), "but the body has")]:
        r = httpx.post(f"{url}/v2/models/churn/infer", content=body,
                       headers={"inference-header-content-length": length, "content-type": "application/octet-stream"})
        assert r.status_code == 400 and message in r.json()["error"], r.text


@pytest.mark.parametrize("compression", ["gzip", "deflate"])
def test_compressed_requests(client: object, sqlite_home: Home, compression: str) -> None:
    x = rows(4, seed=8)
    result = client.infer("churn", [_input("input-0", x, "FP64")], request_compression_algorithm=compression,
                          response_compression_algorithm=compression)
    assert result.as_numpy("predict").tolist() == expected(sqlite_home, 1, x)


def test_a_compressed_body_is_held_to_the_body_limit_once_inflated(url: str) -> None:
    import gzip

    bomb = gzip.compress(b" " * 40_000_000)  # 40 kB on the wire, 40 MB inflated (the limit is 32 MiB)
    r = httpx.post(f"{url}/v2/models/churn/infer", content=bomb,
                   headers={"content-encoding": "gzip", "content-type": "application/json"})
    assert r.status_code == 413 and "once decompressed" in r.json()["error"]
    r = httpx.post(f"{url}/v2/models/churn/infer", content=b"{}", headers={"content-encoding": "br"})
    assert r.status_code == 415 and "Content-Encoding 'br'" in r.json()["error"]

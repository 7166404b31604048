"""`stead serve` runs a scikit-learn linear model with NumPy alone: scikit-learn is never
imported into the server, and its answers equal scikit-learn's (`--import-sklearn`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from serving_helpers import Home, expected, rows


def _server_pid(url: str) -> int:
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and port.encode() in argv:
            return int(proc.name)
    raise AssertionError(f"no stead serve process on port {port}")


def _loaded_libraries(pid: int) -> str:
    return (Path("/proc") / str(pid) / "maps").read_text()


def _infer(url: str, x: np.ndarray) -> list[list[float]]:
    body = {"inputs": [{"name": "input-0", "shape": list(x.shape), "datatype": "FP64", "data": x.ravel().tolist()}],
            "outputs": [{"name": "predict"}, {"name": "predict_proba"}]}
    r = httpx.post(f"{url}/v2/models/churn/infer", json=body)
    assert r.status_code == 200, r.text
    return [o["data"] for o in r.json()["outputs"]]


def test_linear_model_is_served_without_importing_scikit_learn(
        sqlite_home: Home, serve: Callable[..., contextlib.AbstractContextManager[str]]) -> None:
    x = rows(50)
    with serve(sqlite_home, "models:/churn@production") as url:
        assert "/sklearn/" not in _loaded_libraries(_server_pid(url))
        native = _infer(url, x)
        assert "/sklearn/" not in _loaded_libraries(_server_pid(url))
    with serve(sqlite_home, "models:/churn@production", "--import-sklearn", "--trust-pickle") as url:
        assert "/sklearn/" in _loaded_libraries(_server_pid(url))
        imported = _infer(url, x)
    assert native[0] == imported[0] == expected(sqlite_home, 1, x)
    np.testing.assert_allclose(native[1], imported[1], rtol=1e-12)

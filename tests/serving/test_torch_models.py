"""`stead serve` with a PyTorch model whose signature is a float32 tensor: JSON numbers
(float64 or integers) are cast to float32 as MLflow's scoring server does, so the model
warms up from its input example, becomes ready and answers both protocols."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from serving_helpers import Home


def test_float32_tensor_model_is_served_from_json(
        tmp_path: Path, sqlite_home: Home, serve: Callable[..., contextlib.AbstractContextManager[str]]) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'stead[torch]')")
    import stead.models as sm

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    sm.save_model(net, tmp_path / "net", input_example=x[:2])
    want = net(torch.from_numpy(x)).detach().numpy()
    with serve(sqlite_home, str(tmp_path / "net"), "--name", "net", "--device", "cpu", "--trust-pickle") as url:
        v2 = httpx.post(f"{url}/v2/models/net/infer", json={"inputs": [
            {"name": "input-0", "shape": [6, 4], "datatype": "FP64", "data": x.astype("float64").ravel().tolist()}]})
        assert v2.status_code == 200, v2.text
        out = v2.json()["outputs"][0]
        np.testing.assert_allclose(np.array(out["data"]).reshape(out["shape"]), want, rtol=1e-6)
        scoring = httpx.post(f"{url}/invocations", json={"inputs": x.tolist()})
        assert scoring.status_code == 200, scoring.text
        np.testing.assert_allclose(np.array(scoring.json()["predictions"]), want, rtol=1e-6)
        integers = httpx.post(f"{url}/invocations", json={"inputs": [[1, 2, 3, 4]]})
        assert integers.status_code == 200, integers.text
        np.testing.assert_allclose(integers.json()["predictions"],
                                   net(torch.tensor([[1.0, 2.0, 3.0, 4.0]])).detach().numpy(), rtol=1e-6)

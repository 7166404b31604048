"""The model the README's churn pipeline makes is served, as the README says.

`stead pipeline run examples/churn/pipeline.py:train_pipeline -p lr=0.2` (from the repository
root) trains a gradient-boosting model on integer and float columns and registers it as
churn@staging; `stead serve models:/churn@staging` must become ready (its warm-up runs the
model on its own saved input example) and answer that example and a V2 request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from serving_helpers import Home
from server_process import free_port, run_server

ROOT = Path(__file__).resolve().parents[2]


def test_the_churn_pipeline_model_is_served(tmp_path: Path) -> None:
    home = Home(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'stead.db'}")
    env = {**home.env(), "STEAD_TRUST_PICKLE": "1"}  # the example logs a cloudpickled model
    stead = [sys.executable, "-c", "from stead.cli.main import run; run()"]
    run = subprocess.run([*stead, "pipeline", "run", "examples/churn/pipeline.py:train_pipeline", "-p", "lr=0.2"],
                         cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    [example] = home.artifacts.rglob("serving_input_example.json")
    body = json.loads(example.read_text())
    assert body["dataframe_split"]["columns"][0] == "tenure_months"
    assert isinstance(body["dataframe_split"]["data"][0][0], int)  # integers beside floats

    port = free_port()
    argv = [*stead, "serve", "models:/churn@staging", "--port", str(port)]
    with run_server(argv, port, env, deadline_s=90, health_path="/v2/health/ready",
                    log_path=tmp_path / "serve.log") as url:
        r = httpx.post(f"{url}/invocations", content=example.read_bytes(),
                       headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text
        predictions = r.json()["predictions"]
        assert len(predictions) == 5 and set(predictions) <= {0, 1}
        rows = body["dataframe_split"]["data"]
        v2 = {"inputs": [{"name": "input-0", "shape": [5, 4], "datatype": "FP64",
                          "data": [float(v) for row in rows for v in row]}]}
        r = httpx.post(f"{url}/v2/models/churn/infer", json=v2)
        assert r.status_code == 200, r.text
        assert r.json()["outputs"][0]["data"] == predictions
        columns = body["dataframe_split"]["columns"]
        named = {"inputs": [{"name": c, "shape": [5], "datatype": "FP64" if c == "monthly_charges" else "INT64",
                             "data": [row[i] for row in rows]} for i, c in enumerate(columns)]}
        r = httpx.post(f"{url}/v2/models/churn/infer", json=named)
        assert r.status_code == 200 and r.json()["outputs"][0]["data"] == predictions

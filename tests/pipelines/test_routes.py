"""The REST route that starts pipeline runs (alerts trigger retraining through it)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from stead.pipelines import run_pipeline
from stead.pipelines.loader import load_pipeline
from stead.server.app import create_app

PIPE = """
import stead.pipelines as sp

@sp.step
def double(x: int) -> int:
    return 2 * x

@sp.pipeline
def retrain(x: int = 1):
    double(x)
"""


@pytest.fixture
def api(settings):  # type: ignore[no-untyped-def]
    with TestClient(create_app(settings)) as client:
        yield client


def test_start_a_known_pipeline_and_read_it_back(api, settings, tmp_path: Path):
    path = tmp_path / "retrain_api.py"
    path.write_text(PIPE)
    ref = f"{path}:retrain"
    first = run_pipeline(load_pipeline(ref), settings=settings)  # now the store knows it
    response = api.post("/api/stead/v1/pipelines/runs", json={"pipeline": ref, "params": {"x": 21}})
    assert response.status_code == 200, response.text
    run_id = response.json()["run_id"]
    deadline = time.monotonic() + 120
    while True:  # the run is its own process: poll its record
        run = api.get(f"/api/stead/v1/pipelines/runs/{run_id}").json()["run"]
        if run["status"] not in ("PENDING", "RUNNING"):
            break
        assert time.monotonic() < deadline, run
        time.sleep(0.2)
    assert run["status"] == "SUCCEEDED" and run["trigger"] == "api" and run["params"] == {"x": 21}
    listed = api.get("/api/stead/v1/pipelines/runs", params={"pipeline": "retrain"}).json()["runs"]
    assert {r["run_id"] for r in listed} == {run_id, first.run_id}


def test_bad_requests_get_mlflow_error_bodies(api, tmp_path: Path, settings):
    path = tmp_path / "retrain_api2.py"
    path.write_text(PIPE)
    ref = f"{path}:retrain"
    unknown = api.post("/api/stead/v1/pipelines/runs", json={"pipeline": ref})
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    run_pipeline(load_pipeline(ref), settings=settings)
    bad = api.post("/api/stead/v1/pipelines/runs", json={"pipeline": ref, "params": {"y": 1}})
    assert bad.status_code == 400 and "has no parameter" in bad.json()["message"]
    bad = api.post("/api/stead/v1/pipelines/runs", json={"pipeline": ref, "executor": "spark"})
    assert bad.status_code == 400 and "Unknown executor" in bad.json()["message"]
    malformed = api.post("/api/stead/v1/pipelines/runs", content=b"{nope", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400  # as every stead server endpoint answers malformed JSON
    assert malformed.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert api.get("/api/stead/v1/pipelines/runs/doesnotexist").status_code == 404


def test_starting_runs_needs_an_admin_when_auth_is_on(settings):
    with TestClient(create_app(settings, auth=True)) as client:
        anonymous = client.post("/api/stead/v1/pipelines/runs", json={"pipeline": "x.py:p"})
        assert anonymous.status_code == 401
        assert client.get("/api/stead/v1/pipelines/runs").status_code == 401

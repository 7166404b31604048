"""The differential suite: one script of official MLflow client calls, run against a real
``mlflow server`` and a real ``stead server``; the results must match field by field
(ids and timestamps are replaced by labels inside the script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server_process import free_port, run_server, stead_server  # noqa: E402

MLFLOW_PYTHON = os.environ.get("STEAD_TEST_MLFLOW_PYTHON")
SCRIPT = Path(__file__).with_name("mlflow_script.py")
BIG_MB = int(os.environ.get("STEAD_TEST_BIG_MB", "200"))

pytestmark = pytest.mark.skipif(
    not MLFLOW_PYTHON, reason="set STEAD_TEST_MLFLOW_PYTHON to the python of a venv with mlflow==3.17.2"
)


def _client_env(url: str) -> dict[str, str]:
    bindir = str(Path(MLFLOW_PYTHON or "").parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STEAD_"))}
    env.update(MLFLOW_TRACKING_URI=url, MLFLOW_DISABLE_TELEMETRY="true", PATH=f"{bindir}:{env.get('PATH', '')}",
               MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", GIT_PYTHON_REFRESH="quiet")
    return env


def _run_script(url: str, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([MLFLOW_PYTHON, str(SCRIPT), str(work), str(BIG_MB)], env=_client_env(url),
                          capture_output=True, text=True, timeout=900, cwd=work)
    assert proc.returncode == 0, proc.stderr[-6000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def mlflow_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    bindir = Path(MLFLOW_PYTHON or "").parent
    argv = [str(bindir / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination", str(root / "artifacts"), "--workers", "1",
            "--host", "127.0.0.1", "--port", str(port)]
    env = _client_env("")
    with run_server(argv, port, env, deadline_s=180, log_path=root / "server.log") as url:
        return _run_script(url, root / "work")


@pytest.fixture(scope="module")
def stead_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("stead")
    with stead_server(root / "home") as url:
        return _run_script(url, root / "work")


def test_same_steps(mlflow_results: dict, stead_results: dict) -> None:
    assert sorted(stead_results) == sorted(mlflow_results)


def test_every_step_matches(mlflow_results: dict, stead_results: dict) -> None:
    diffs = {k: {"mlflow": mlflow_results[k], "stead": stead_results.get(k)}
             for k in mlflow_results if mlflow_results[k] != stead_results.get(k)}
    assert not diffs, json.dumps(diffs, indent=1)[:20000]


def test_big_artifact_round_trip(stead_results: dict) -> None:
    if BIG_MB:
        assert stead_results["art_big"] == {"same_hash": True, "size": BIG_MB * 1024 * 1024}

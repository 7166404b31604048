"""`stead serve` loads a pickled model only with --trust-pickle (or STEAD_TRUST_PICKLE); a
linear scikit-learn model read by NumPy needs no opt-in: real server processes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from serving_helpers import Home, make_home, register_python_model
from server_process import free_port, run_server


def _log_says(log: Path, text: str, deadline_s: float = 60.0) -> str:
    start = time.monotonic()
    while True:
        content = log.read_text(errors="replace") if log.exists() else ""
        if text in content:
            return content
        assert time.monotonic() - start < deadline_s, content
        time.sleep(0.05)


def test_a_pickled_model_is_not_loaded_without_the_opt_in(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    home: Home = make_home(tmp_path / "h", f"sqlite:///{tmp_path / 'h' / 'stead.db'}")
    register_python_model(home)
    port = free_port()
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "serve", "models:/quirky@production",
            "--port", str(port)]
    log = tmp_path / "serve.log"
    with run_server(argv, port, home.env(), health_path="/v2/health/live", log_path=log) as url:
        content = _log_says(log, "python_model.pkl is a Python model pickled")
        assert "--trust-pickle" in content, content
        assert httpx.get(f"{url}/v2/health/ready").status_code != 200
        r = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"x": 2.0}]})
        assert r.status_code == 503, r.text

    with serve(home, "models:/quirky@production", "--trust-pickle") as url:
        r = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"x": 2.0}]})
        assert r.status_code == 200 and r.json()["predictions"] == [4.0], r.text

    with serve(home, "models:/churn@production") as url:  # the NumPy reader of a linear model runs no pickle
        assert httpx.get(f"{url}/v2/health/ready").status_code == 200

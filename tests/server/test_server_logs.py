"""``stead server --log-format json``: every line a JSON object, one per request with its id."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from server_process import stead_server


def _lines(path: Path) -> list[dict]:
    text = path.read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]  # fails on any non-JSON line


def test_json_logs_of_a_server_with_workers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with stead_server(home, "--log-format", "json", "--workers", "2") as url:
        ok = httpx.get(f"{url}/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"},
                       headers={"X-Request-ID": "req-from-client"})
        missing = httpx.get(f"{url}/api/2.0/mlflow/runs/get", params={"run_id": "nope"})
    assert ok.status_code == 200 and ok.headers["x-request-id"] == "req-from-client"
    assert missing.status_code == 404
    lines = _lines(home / "server.log")
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
        assert line["time"].endswith("Z") and line["level"] in ("INFO", "WARNING", "ERROR")
    assert any(line["logger"] == "stead.server" and "listening on" in line["message"] for line in lines)
    access = {line["request_id"]: line for line in lines if line["logger"] == "stead.access"}
    first = access["req-from-client"]
    assert (first["method"], first["path"], first["status"]) == ("GET", "/api/2.0/mlflow/experiments/get", 200)
    assert first["duration_ms"] >= 0
    assert access[missing.headers["x-request-id"]]["status"] == 404  # an id made up by the server, echoed


def test_text_logs_stay_as_they_were(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with stead_server(home) as url:
        assert "x-request-id" not in httpx.get(f"{url}/health").headers
    text = (home / "server.log").read_text()
    assert text.startswith("stead server listening on ") and "{" not in text.splitlines()[0]


def test_an_unknown_log_format_is_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "from stead.cli.main import run; run()", "server", "--log-format",
                           "yaml", "--port", "0"], capture_output=True, text=True, timeout=60,
                          env={"STEAD_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0 and "Unknown log format 'yaml'" in proc.stderr
    assert "Traceback" not in proc.stderr

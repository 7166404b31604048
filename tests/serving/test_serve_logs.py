"""``stead serve --log-format json``: one JSON object a line, with request id, deployment and variant."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx

from serving_helpers import COLUMNS, Home, rows
from server_process import free_port, run_server


def test_json_logs_name_the_deployment_and_the_variant_of_each_request(home: Home, tmp_path: Path) -> None:
    from stead.serving.deployments import Deployments, Variant
    from stead.store import open_store

    Deployments(open_store(home.store_url), home.registry()).create(
        "churn", [Variant("primary", "churn@production", 50, False), Variant("canary", "churn@staging", 50, False)])
    port = free_port()
    log = tmp_path / "serve.log"
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "serve", "--deployment", "churn",
            "--log-format", "json", "--port", str(port)]
    body = {"dataframe_split": {"columns": COLUMNS, "data": rows(1).tolist()}}
    served: dict[str, str] = {}
    with run_server(argv, port, home.env(), health_path="/v2/health/ready", log_path=log) as url:
        with httpx.Client() as client:
            for i in range(20):
                r = client.post(f"{url}/invocations", json=body, headers={"X-Request-ID": f"req-{i}"})
                assert r.status_code == 200 and r.headers["x-request-id"] == f"req-{i}"
                served[f"req-{i}"] = r.headers["x-stead-variant"]
            bad = client.post(f"{url}/invocations", content=b"{not json", headers={"Content-Type": "application/json"})
            assert bad.status_code == 400
    lines = [json.loads(text) for text in log.read_text().splitlines() if text.strip()]  # fails on a non-JSON line
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line) and line["deployment"] == "churn", line
    assert any(line["logger"] == "stead.serving" and "stead serve deployment churn on" in line["message"]
               for line in lines)
    access = {line["request_id"]: line for line in lines if line["logger"] == "stead.access"}
    for request_id, variant in served.items():
        line = access[request_id]
        assert line["variant"] == variant and line["status"] == 200 and line["path"] == "/invocations"
    assert set(served.values()) == {"primary", "canary"}  # 20 requests at 50/50: both, but for 1 in 500,000
    assert access[bad.headers["x-request-id"]]["status"] == 400

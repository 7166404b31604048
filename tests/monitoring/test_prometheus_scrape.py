"""A real Prometheus (the Debian ``prometheus`` package's server) scraping a real ``stead serve``
and a real ``stead server`` every second: both targets are up (each ``/metrics`` parses as
Prometheus's exposition format), the model server's request counter reaches Prometheus after
requests are sent, and the drift gauge of a monitor that the stead server's own scheduler ran on
the served (drifted) traffic is queryable through Prometheus's HTTP API. Every process is
stopped at the end; without the ``prometheus`` binary the test is skipped, saying why (a failure
in CI, where ``STEAD_TEST_REQUIRE_ALL=1``)."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from churn_project import FEATURES, customers, make_project  # noqa: E402
from server_process import free_port, run_server, stead_server  # noqa: E402

pytestmark = pytest.mark.slow
T = TypeVar("T")
PROMETHEUS = shutil.which("prometheus")


def _until(what: str, check: Callable[[], T | None], deadline_s: float = 90.0, detail: Callable[[], str] = str) \
        -> T:
    """``check()``'s first true value, polled until ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < end, f"{what}: not within {deadline_s} s. {detail()}"
        time.sleep(0.2)


def _config(path: Path, serve: str, server: str) -> Path:
    path.write_text(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: stead-serve
    static_configs:
      - targets: ["{serve.removeprefix('http://')}"]
  - job_name: stead-server
    static_configs:
      - targets: ["{server.removeprefix('http://')}"]
""")
    return path


def _query(prom: str, expr: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


@pytest.mark.skipif(PROMETHEUS is None, reason="the prometheus server binary is not on PATH "
                    "(apt-get install prometheus; .ci/run installs it)")
def test_prometheus_scrapes_stead_serve_and_the_stead_servers_monitor_gauges(tmp_path: Path) -> None:
    from stead.artifacts import open_artifact_store
    from stead.monitoring import create_monitor, list_monitor_runs
    from stead.monitoring.variants import read_variants
    from stead.serving.deployments import Deployments, Variant
    from stead.store import open_store

    project = make_project(tmp_path / "proj", f"sqlite:///{tmp_path / 'stead.db'}")
    store = open_store(project.store_url)
    artifacts = open_artifact_store(str(project.artifacts))
    Deployments(store).create("scraped", [Variant("primary", "churn@production", 100)])
    env = {**project.env(), "STEAD_TRACKING_URI": ""}
    logs = tmp_path / "logs"
    logs.mkdir()

    def tail(name: str) -> str:
        path = logs / name
        return f"{name}: {path.read_text(errors='replace')[-3000:]}" if path.exists() else f"{name}: (none)"

    try:
        with ExitStack() as stack:
            server = stack.enter_context(stead_server(  # monitors on; the project's home (its dataset cache)
                project.root, store_url=project.store_url, env={"STEAD_HOME": str(project.home)}))
            port = free_port()
            serve = stack.enter_context(run_server(
                [sys.executable, "-m", "stead.cli", "serve", "--deployment", "scraped", "--port", str(port),
                 "--log-sample", "1", "--log-flush", "0.2", "--poll", "0.5", "--trust-pickle"],
                port, env, deadline_s=120, health_path="/v2/health/ready", log_path=logs / "serve.log"))
            prom_port = free_port()
            config = _config(tmp_path / "prometheus.yml", serve, server)
            prom = stack.enter_context(run_server(
                [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                prom_port, {}, deadline_s=60, health_path="/-/ready", log_path=logs / "prometheus.log"))

            def targets() -> list[dict[str, Any]]:
                return list(httpx.get(f"{prom}/api/v1/targets", timeout=5).json()["data"]["activeTargets"])

            _until("both targets up", lambda: {t["labels"]["job"] for t in targets() if t["health"] == "up"}
                   == {"stead-serve", "stead-server"}, detail=lambda: repr(
                       [(t["labels"]["job"], t["health"], t["lastError"]) for t in targets()]))

            # requests to the model server: its counter, as Prometheus stores it
            shifted = customers(400, seed=11, charges_shift=40)
            rows = shifted[FEATURES].values.tolist()
            sent = 0
            with httpx.Client(timeout=30) as http:
                for at in range(0, len(rows), 8):
                    r = http.post(f"{serve}/invocations",
                                  json={"dataframe_split": {"columns": FEATURES, "data": rows[at:at + 8]}})
                    assert r.status_code == 200, r.text
                    sent += 1

            def counted() -> float | None:
                found = _query(prom, 'sum(stead_serving_requests_total{deployment="scraped",code="200"})')
                return float(found[0]["value"][1]) if found and float(found[0]["value"][1]) >= sent else None

            assert _until("stead_serving_requests_total in Prometheus", counted, detail=lambda: tail("serve.log")) \
                == sent
            [series] = _query(prom, 'stead_serving_requests_total{deployment="scraped",code="200"}')
            assert series["metric"]["job"] == "stead-serve" and series["metric"]["protocol"]

            # a monitor the stead server runs on that (drifted) traffic: its gauge, through Prometheus
            since = time.time() - 600
            _until("the requests in the prediction log", lambda: sum(
                s.requests for s in read_variants(artifacts, "scraped", since, time.time() + 1).values()) >= sent,
                detail=lambda: tail("serve.log"))
            create_monitor(store, "scraped", "scraped", every="1h", window="10m", drift_share=0.25)  # due at once
            [run] = _until("the server's monitor run", lambda: list_monitor_runs(store, "scraped"),
                           detail=lambda: (project.root / "server.log").read_text()[-3000:])
            assert run.status == "alert" and run.summary["drift"]["dataset_drift"] is True, run.summary["message"]
            detected = _until("stead_drift_detected in Prometheus",
                              lambda: _query(prom, 'stead_drift_detected{deployment="scraped"}'))
            assert [(s["metric"]["job"], s["value"][1]) for s in detected] == [("stead-server", "1")]
            scores = _query(prom, 'stead_drift_score{deployment="scraped",feature="monthly_charges"}')
            assert len(scores) == 1 and scores[0]["metric"]["test"]
            assert float(scores[0]["value"][1]) == pytest.approx(
                {f["column"]: f["score"] for f in run.summary["drift"]["features"]}["monthly_charges"], rel=1e-6)
        assert "level=error" not in (logs / "prometheus.log").read_text(), tail("prometheus.log")
    finally:
        store.dispose()

"""Scheduled monitors on SQLite and PostgreSQL: the service's checks, a run against a real
prediction log written by serving's ``PredictionLog`` and the reference statistics of a
registered model trained on a versioned dataset (drift found on shifted traffic, none on
traffic like the training data, no gauge from a window without traffic), the report as JSON
and one offline HTML page, the gauges on a real ``stead server``'s ``/metrics``, each period
claimed once by concurrent claimers, and the alert actions (a webhook delivered and retried
against a real HTTP server, a pipeline started as its own process, Alertmanager's alerts
recorded and acted on once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from churn_project import FEATURES, Project, customers, make_project  # noqa: E402
from conftest import POSTGRES_URL, _postgres_schema_url  # noqa: E402
from server_process import stead_server  # noqa: E402
from stead.artifacts import open_artifact_store  # noqa: E402
from stead.errors import AlreadyExists, InvalidParameter, NotFound  # noqa: E402
from stead.monitoring import gauges, monitors  # noqa: E402
from stead.monitoring.actions import list_events, post_webhook  # noqa: E402
from stead.monitoring.run_monitor import list_runs, run_monitor  # noqa: E402
from stead.monitoring.scheduler import tick  # noqa: E402
from stead.serving import prediction_log  # noqa: E402
from stead.serving.deployments import Deployments, Variant  # noqa: E402
from stead.serving.prediction_log import PredictionLog  # noqa: E402
from stead.store import open_store  # noqa: E402

HOUR = 3600.0
T0 = 490_000 * HOUR  # November 2025


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """The churn project (churn@production trained on data:/customers@1) on each database."""
    root = tmp_path_factory.mktemp(f"monitors-{request.param}") / "proj"
    if request.param == "sqlite":
        yield make_project(root, f"sqlite:///{root.parent / 'stead.db'}")
        return
    if not POSTGRES_URL:
        pytest.skip("set STEAD_TEST_POSTGRES_URL to run the PostgreSQL cases")
    for url in _postgres_schema_url(POSTGRES_URL):
        yield make_project(root, url)


@pytest.fixture
def store(project: Project) -> Iterator[Any]:
    s = open_store(project.store_url)
    yield s
    s.dispose()


@pytest.fixture
def artifacts(project: Project) -> Any:
    return open_artifact_store(str(project.artifacts))


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def time(self) -> float:
        return self.now


def _deploy(store: Any, name: str, model: str = "churn@production") -> str:
    Deployments(store).create(name, [Variant("primary", model, 100)])
    return name


def _log(artifacts: Any, deployment: str, table: Any, monkeypatch: pytest.MonkeyPatch, *, start: float = T0,
         per_request: int = 10) -> None:
    """``table``'s feature rows as requests answered over the ten minutes after ``start``,
    written by serving's own PredictionLog (its clock set to those times)."""
    clock = _Clock()
    monkeypatch.setattr(prediction_log, "time", clock)
    log = PredictionLog(artifacts, deployment, flush_s=3600, flush_rows=10**9)
    try:
        batches = range(0, len(table), per_request)
        for i, at in enumerate(batches):
            rows = table.iloc[at:at + per_request]
            clock.now = start + 600.0 * i / len(batches)
            inputs = {c: rows[c].tolist() for c in FEATURES}
            log.record("primary", "1", "v2", f"{deployment}-{i}", 0.002, inputs,
                       {"predict": np.asarray(rows["churned"].tolist())})
    finally:
        log.close()
    monkeypatch.undo()


# ---- the service ---------------------------------------------------------------------------------
def test_create_list_get_delete_with_clear_errors(store: Any, project: Project) -> None:
    _deploy(store, "svc")
    made = monitors.create(store, "svc-mon", "svc", every="15m", window="1h", minimums={"accuracy": 0.8},
                           on_alert="https://hooks.example.com/stead", now=T0)
    assert (made.every_s, made.window_s, made.next_due, made.minimums) == (900.0, 3600.0, int(T0 * 1000),
                                                                         {"accuracy": 0.8})
    assert monitors.get(store, "svc-mon") == made
    assert [m.name for m in monitors.list_monitors(store, "svc")] == ["svc-mon"]
    with pytest.raises(AlreadyExists, match="Monitor 'svc-mon' exists"):
        monitors.create(store, "svc-mon", "svc", every="15m", window="1h")
    with pytest.raises(NotFound, match="Deployment 'nowhere'"):
        monitors.create(store, "m2", "nowhere", every="15m", window="1h")
    with pytest.raises(InvalidParameter, match="--every 'soon' is not a duration"):
        monitors.create(store, "m2", "svc", every="soon", window="1h")
    with pytest.raises(InvalidParameter, match="--window '0s' must be at least one second"):
        monitors.create(store, "m2", "svc", every="1m", window="0s")
    with pytest.raises(InvalidParameter, match="neither run:FILE.py:PIPELINE .* nor an http"):
        monitors.create(store, "m2", "svc", every="1m", window="1h", on_alert="email:ops@example.com")
    with pytest.raises(InvalidParameter, match="write run:FILE.py:PIPELINE"):
        monitors.create(store, "m2", "svc", every="1m", window="1h", on_alert="run:train")
    with pytest.raises(NotFound, match="no pipeline file"):
        monitors.create(store, "m2", "svc", every="1m", window="1h", on_alert="run:missing.py:train")
    with pytest.raises(InvalidParameter, match="No limit for 'mse': a monitor sets a minimum for accuracy, f1, "
                       "roc_auc and a maximum for mae, rmse"):
        monitors.create(store, "m2", "svc", every="1m", window="1h", minimums={"mse": 3.0})
    with pytest.raises(InvalidParameter, match="The maximum rmse -1 must be a number of at least 0"):
        monitors.create(store, "m2", "svc", every="1m", window="1h", minimums={"rmse": -1})
    with pytest.raises(InvalidParameter, match="must be 1-64 letters"):
        monitors.create(store, "bad name", "svc", every="1m", window="1h")
    assert [m.name for m in monitors.list_monitors(store, "svc")] == ["svc-mon"]  # nothing half-made
    monitors.delete_monitor(store, "svc-mon")
    with pytest.raises(NotFound, match="No monitor named 'svc-mon'"):
        monitors.get(store, "svc-mon")
    with pytest.raises(NotFound):
        monitors.delete_monitor(store, "svc-mon")


def test_errors_have_maxima_and_scores_minima() -> None:
    from stead.monitoring.run_monitor import limit_alerts

    perf = [{"variant": "primary", "metric": "mae", "value": 4.5, "estimated": False, "n": 90},
            {"variant": "primary", "metric": "rmse", "value": 2.0, "estimated": False, "n": 90},
            {"variant": "primary", "metric": "accuracy", "value": 0.7, "estimated": True, "n": 90},
            {"variant": "primary", "metric": "f1", "value": 0.9, "estimated": False, "n": 90}]
    assert limit_alerts(perf, {"mae": 3.0, "rmse": 2.5, "accuracy": 0.8, "f1": 0.8}) == [
        "SteadModelPerformanceLow: mae of variant primary is 4.5, above the maximum 3",
        "SteadModelPerformanceEstimatedLow: estimated accuracy of variant primary is 0.7, below the minimum 0.8"]
    assert limit_alerts(perf, {}) == []


# ---- a run ---------------------------------------------------------------------------------------
def _series(text: str, name: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line.startswith(name + "{")}


def test_shifted_traffic_drifts_and_the_gauges_say_so(store: Any, artifacts: Any, project: Project,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _deploy(store, "shifted")
    _log(artifacts, "shifted", customers(1000, seed=11, charges_shift=40), monkeypatch)
    monitor = monitors.create(store, "shifted", "shifted", every="15m", window="1h", drift_share=0.25, now=T0)
    run = run_monitor(project.settings(), store, artifacts, monitor, now=T0 + 900)
    assert run.status == "alert", run.summary["message"]
    drift = run.summary["drift"]
    assert drift["dataset_drift"] is True and run.summary["rows"] == 1000
    by_column = {f["column"]: f for f in drift["features"]}
    assert by_column["monthly_charges"]["drifted"] is True and by_column["tenure_months"]["drifted"] is False
    assert run.summary["model"] == f"churn/{project.version}"
    assert run.summary["alerts"][0].startswith("SteadDataDrift: 1 of 4 features drifted")
    # the alert is an event (no action configured: nothing done, and it says so)
    event = list_events(store, deployment="shifted")[0]
    assert (event.source, event.name, event.status, event.monitor, event.result) == (
        "monitor", "SteadDataDrift", "firing", "shifted", "no action")
    # the gauges come from the stored run, with the names the alert rules read
    text = gauges.render(store).decode()
    assert _series(text, "stead_drift_detected")['stead_drift_detected{deployment="shifted"}'] == 1.0
    scores = _series(text, "stead_drift_score")
    key = 'stead_drift_score{deployment="shifted",feature="monthly_charges",test="wasserstein"}'
    assert scores[key] == pytest.approx(by_column["monthly_charges"]["score"])
    # the report: JSON and one offline HTML page with a chart per feature
    report = json.loads(artifacts.get_bytes(run.summary["report"]))
    assert report["status"] == "alert" and set(report["charts"]) == set(FEATURES)
    assert abs(sum(report["charts"]["monthly_charges"]["current"]) - 1) < 1e-9
    page = artifacts.get_bytes(run.summary["html"]).decode()
    assert page.count("<svg") == len(FEATURES) and "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert run.report_uri is not None and run.report_uri.endswith("report.html")


def test_traffic_like_the_training_data_does_not_drift(store: Any, artifacts: Any, project: Project,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _deploy(store, "same")
    _log(artifacts, "same", customers(1000, seed=12), monkeypatch)
    monitor = monitors.create(store, "same", "same", every="15m", window="1h", now=T0)
    run = run_monitor(project.settings(), store, artifacts, monitor, now=T0 + 900)
    assert run.status == "ok" and run.summary["drift"]["dataset_drift"] is False
    assert run.summary["drift"]["drifted"] == 0 and run.summary["alerts"] == []
    assert list_events(store, deployment="same") == []
    assert _series(gauges.render(store).decode(), "stead_drift_detected")[
        'stead_drift_detected{deployment="same"}'] == 0.0


def test_a_window_without_traffic_sets_no_gauge(store: Any, artifacts: Any, project: Project,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _deploy(store, "quiet")
    _log(artifacts, "quiet", customers(300, seed=12, charges_shift=40), monkeypatch)
    monitor = monitors.create(store, "quiet", "quiet", every="15m", window="1h", drift_share=0.25, now=T0)
    assert run_monitor(project.settings(), store, artifacts, monitor, now=T0 + 900).status == "alert"
    assert 'deployment="quiet"' in gauges.render(store).decode()
    later = run_monitor(project.settings(), store, artifacts, monitor, now=T0 + 5 * HOUR)
    assert later.status == "no_data" and later.summary["message"].startswith("no data: deployment quiet")
    text = gauges.render(store).decode()
    assert not [line for line in text.splitlines() if 'deployment="quiet"' in line and
                not line.startswith("stead_monitor_last_run")]  # the old figures are not repeated
    assert [r.status for r in list_runs(store, "quiet")] == ["no_data", "alert"]


def test_a_model_without_reference_says_how_to_make_one(store: Any, artifacts: Any, project: Project,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import stead
    from sklearn.linear_model import LogisticRegression

    from stead.registry.client import RegistryClient
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    client = TrackingClient(project.settings())
    fluent.set_client(client)
    try:  # a model whose run names no dataset: no lineage to compute statistics from
        with fluent.start_run("plain") as tracked:
            x = customers(200, seed=3)[["tenure_months", "monthly_charges"]]
            stead.log_model(LogisticRegression().fit(x, x.tenure_months > 30), "model", input_example=x.head(3))
        version = RegistryClient(tracking=client).register_model(f"runs:/{tracked.info.run_id}/model", "plain")
    finally:
        fluent.set_client(None)
        client.close()
    _deploy(store, "noref", f"plain/{version.version}")
    _log(artifacts, "noref", customers(100, seed=12), monkeypatch)
    monitor = monitors.create(store, "noref", "noref", every="15m", window="1h", now=T0)
    run = run_monitor(project.settings(), store, artifacts, monitor, now=T0 + 900)
    assert run.status == "no_reference"
    assert f"stead monitor reference plain@{version.version} --data" in run.summary["message"]
    assert not [line for line in gauges.render(store).decode().splitlines()
                if 'deployment="noref"' in line and not line.startswith("stead_monitor_last_run")]


# ---- scheduling ----------------------------------------------------------------------------------
def test_two_claimers_run_each_period_once(store: Any, artifacts: Any, project: Project) -> None:
    _deploy(store, "claimed")
    monitors.create(store, "claimed", "claimed", every="15m", window="1h", now=T0)
    other = open_store(project.store_url)  # a second replica: its own engine and connections
    ran: list[tuple[str, float]] = []

    def fake_run(settings: Any, s: Any, a: Any, monitor: Any, *, now: float) -> Any:
        ran.append((monitor.name, now))
        return monitor

    try:
        claims = []
        for now in (T0, T0 + 60, T0 + 900, T0 + 901, T0 + 3 * 900 + 5):
            barrier = threading.Barrier(2)
            done: list[int] = []

            def replica(s: Any) -> None:
                stale = monitors.get(s, "claimed")  # both read the same due monitor...
                barrier.wait()
                done.append(int(monitors.claim(s, stale, int(now * 1000))))  # ...and race to claim it

            threads = [threading.Thread(target=replica, args=(s,)) for s in (store, other)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            due = monitors.get(store, "claimed").next_due
            assert sum(done) <= 1, (now, done)
            claims.append(sum(done))
            if sum(done):
                assert due > now * 1000  # moved past now: the next period, missed ones skipped
        assert claims == [1, 0, 1, 0, 1]  # due, not due, due, claimed already, due (two periods missed)
        assert monitors.get(store, "claimed").next_due == int((T0 + 4 * 900) * 1000)
        # tick does the same: one of the two replicas runs the due period
        for now in (T0 + 4 * 900, T0 + 4 * 900 + 1):
            tick(project.settings(), store, artifacts, now, run=fake_run)
            tick(project.settings(), other, artifacts, now, run=fake_run)
        assert [r for r in ran if r[0] == "claimed"] == [("claimed", T0 + 4 * 900)]
    finally:
        other.dispose()


# ---- actions -------------------------------------------------------------------------------------
class _Hook:
    """A real HTTP server on 127.0.0.1 that answers ``codes`` in turn (then 200) and keeps
    the JSON bodies it was sent."""

    def __init__(self, codes: list[int]) -> None:
        self.codes, self.bodies = list(codes), []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                hook.bodies.append(json.loads(body))
                self.send_response(hook.codes.pop(0) if hook.codes else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[_Hook]:
    h = _Hook([500])
    yield h
    h.close()


def test_a_webhook_is_retried_on_500_with_bounded_backoff(hook: _Hook) -> None:
    waits: list[float] = []
    assert post_webhook(hook.url, {"alert": "x"}, sleep=waits.append) == "delivered: HTTP 200 after 2 tries"
    assert hook.bodies == [{"alert": "x"}, {"alert": "x"}] and waits == [0.5]
    hook.codes = [503] * 10
    waits.clear()
    result = post_webhook(hook.url, {"alert": "y"}, attempts=5, backoff=2, max_backoff=5, sleep=waits.append)
    assert result == "failed: HTTP 503 after 5 tries" and waits == [2, 4, 5, 5]
    closed = post_webhook("http://127.0.0.1:9/nothing", {}, attempts=2, sleep=waits.append)
    assert closed.startswith("failed: ConnectError")


def test_a_drift_alert_is_delivered_to_the_monitors_webhook(store: Any, artifacts: Any, project: Project,
                                                            hook: _Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    _deploy(store, "hooked")
    _log(artifacts, "hooked", customers(600, seed=11, charges_shift=40), monkeypatch)
    monitor = monitors.create(store, "hooked", "hooked", every="15m", window="1h", drift_share=0.25,
                              on_alert=hook.url, now=T0)
    monkeypatch.setattr("stead.monitoring.actions.time.sleep", lambda s: None)  # the retry waits no 0.5 s
    run = run_monitor(project.settings(), store, artifacts, monitor, now=T0 + 900)
    assert run.status == "alert"
    assert len(hook.bodies) == 2  # a 500, then delivered
    sent = hook.bodies[-1]
    assert (sent["alert"], sent["deployment"], sent["monitor"], sent["status"]) == (
        "SteadDataDrift", "hooked", "hooked", "firing")
    assert sent["trained_on"] == "data:/customers@1" and sent["report"] == run.report_uri
    event = list_events(store, monitor="hooked")[0]
    assert (event.action, event.result) == (hook.url, "delivered: HTTP 200 after 2 tries")
    # the next run still finds drift for the same model: recorded, not acted on again
    again = run_monitor(project.settings(), store, artifacts, monitor, now=T0 + 1800)
    assert again.status == "alert" and len(hook.bodies) == 2
    repeat = list_events(store, monitor="hooked")[0]
    assert repeat.action is None and repeat.result.startswith("still firing since")


_PIPELINE = '''
import stead.pipelines as sp


@sp.step
def note(deployment: str, dataset: str) -> str:
    return f"{deployment} {dataset}"


@sp.pipeline
def retrain(deployment: str = "", dataset: str = "", rows: int = 10):
    note(deployment, dataset)
'''


def test_a_run_action_starts_the_pipeline_with_the_alerts_parameters(store: Any, artifacts: Any,
                                                                     project: Project, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from stead.pipelines.records import PipelineRecords

    file = tmp_path / "retrain.py"
    file.write_text(_PIPELINE)
    _deploy(store, "retrained")
    _log(artifacts, "retrained", customers(600, seed=11, charges_shift=40), monkeypatch)
    monitor = monitors.create(store, "retrained", "retrained", every="15m", window="1h", drift_share=0.25,
                              on_alert=f"run:{file}:retrain", now=T0)
    run = run_monitor(project.settings(), store, artifacts, monitor, now=T0 + 900)
    assert run.status == "alert"
    event = list_events(store, monitor="retrained")[0]
    assert event.result is not None and event.result.startswith("started pipeline run "), event.result
    run_id = event.result.split()[3]
    records = PipelineRecords(store)
    started = records.get(run_id, with_logs=False)
    assert started.params == {"deployment": "retrained", "dataset": "data:/customers@1", "rows": 10}
    assert started.trigger == "monitor:retrained"
    deadline = time.monotonic() + 120
    while records.get(run_id, with_logs=False).status not in ("SUCCEEDED", "FAILED"):  # the child's own process
        assert time.monotonic() < deadline, "the pipeline run did not finish"
        time.sleep(0.2)
    log = (project.home / "monitor-actions" / f"{run_id}.log").read_text()
    assert records.get(run_id, with_logs=False).status == "SUCCEEDED", log


# ---- the server ----------------------------------------------------------------------------------
def _alertmanager_payload(deployment: str, status: str = "firing") -> dict[str, Any]:
    return {"version": "4", "groupKey": "{}:{alertname=\"SteadServingErrorRate\"}", "truncatedAlerts": 0,
            "status": status, "receiver": "stead", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": [{"status": status, "labels": {"alertname": "SteadServingErrorRate", "deployment": deployment},
                        "annotations": {"summary": f"Deployment {deployment} fails too many requests"},
                        "startsAt": "2026-12-04T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": "", "fingerprint": "abc"}]}


def test_a_real_server_exports_the_gauges_and_records_alertmanager_alerts(
        store: Any, artifacts: Any, project: Project, hook: _Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    _deploy(store, "served")
    _log(artifacts, "served", customers(600, seed=11, charges_shift=40), monkeypatch)
    monitor = monitors.create(store, "served", "served", every="15m", window="1h", drift_share=0.25,
                              on_alert=hook.url, now=T0)
    run_monitor(project.settings(), store, artifacts, monitor, now=T0 + 900, act=False)
    with stead_server(project.root, "--no-monitors", store_url=project.store_url) as url:
        text = httpx.get(f"{url}/metrics", timeout=10).text
        assert _series(text, "stead_drift_detected")['stead_drift_detected{deployment="served"}'] == 1.0
        assert 'stead_drift_score{deployment="served",feature="monthly_charges",test="wasserstein"}' in text
        hook.codes = []
        r = httpx.post(f"{url}/api/stead/v1/alerts", json=_alertmanager_payload("served"), timeout=30)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["recorded"] is True and len(answer["events"]) == 1
        assert [(a["monitor"], a["result"]) for a in answer["actions"]] == [
            ("served", "delivered: HTTP 200 after 1 try")]
        assert hook.bodies[-1]["alert"] == "SteadServingErrorRate" and hook.bodies[-1]["deployment"] == "served"
        again = httpx.post(f"{url}/api/stead/v1/alerts", json=_alertmanager_payload("served"), timeout=30).json()
        assert again["actions"] == [] and len(hook.bodies) == 1  # a repeated notification starts nothing
        resolved = httpx.post(f"{url}/api/stead/v1/alerts", json=_alertmanager_payload("served", "resolved"),
                              timeout=30).json()
        assert resolved["actions"] == []
    events = [e for e in list_events(store, deployment="served") if e.source == "alertmanager"]
    assert [(e.name, e.status) for e in events] == [("SteadServingErrorRate", "resolved"),
                                                   ("SteadServingErrorRate", "firing"),
                                                   ("SteadServingErrorRate", "firing")]
    assert events[-1].result == "delivered: HTTP 200 after 1 try" and events[1].result.startswith("repeat of event")


def test_the_server_runs_due_monitors_until_it_stops(store: Any, artifacts: Any, project: Project) -> None:
    _deploy(store, "scheduled")
    monitors.create(store, "scheduled", "scheduled", every="1h", window="15m")  # due at once
    with stead_server(project.root, store_url=project.store_url):
        deadline = time.monotonic() + 30
        while not list_runs(store, "scheduled"):  # the server's scheduler thread, in its own process
            assert time.monotonic() < deadline, "the server ran no due monitor"
            time.sleep(0.1)
    runs = list_runs(store, "scheduled")
    assert [r.status for r in runs] == ["no_data"]  # this hour has no traffic: measured nothing, said so
    assert monitors.get(store, "scheduled").next_due > runs[0].time  # the next period, claimed once
    log = (project.root / "server.log").read_text()
    assert "Traceback" not in log, log[-2000:]


def test_the_report_page_escapes_every_name() -> None:
    from stead.monitoring.report_html import render

    evil = '<script>alert("x")</script>&'
    summary = {"monitor": evil, "deployment": "d", "status": "alert", "message": evil, "rows": 3,
               "window": {"start_iso": "a", "end_iso": "b"}, "alerts": [evil],
               "drift": {"dataset_drift": True, "drifted": 1, "tested": 1, "drift_share": 0.5,
                         "features": [{"column": evil, "status": "ok", "test": "ks", "score": 0.01,
                                       "threshold": 0.05, "drifted": True}]},
               "performance": [{"variant": evil, "metric": "accuracy", "value": 0.5, "estimated": False, "n": 3}]}
    charts = {evil: {"kind": "categorical", "categories": [evil, "b"], "reference": [0.5, 0.5],
                     "current": [0.9, 0.1]}}
    page = render(summary, charts)
    assert "<script" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page
    assert page.count("<svg") == 1


# ---- the command line ----------------------------------------------------------------------------
def _stead(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    env.update(project.env(), COLUMNS="250")
    return subprocess.run([sys.executable, "-m", "stead.cli", *args], cwd=project.root, capture_output=True,
                          text=True, env=env, timeout=120)


def test_the_monitor_commands_as_a_user_runs_them(store: Any, artifacts: Any, project: Project, hook: _Hook,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _deploy(store, "cli")
    _log(artifacts, "cli", customers(500, seed=11, charges_shift=40), monkeypatch, start=time.time() - 700)
    made = _stead(project, "monitor", "create", "cli-mon", "--deployment", "cli", "--every", "15m", "--window", "1h",
                  "--drift-share", "0.25", "--min-accuracy", "0.8", "--on-alert", hook.url)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"monitor cli-mon: deployment cli every 15m over the last 1h, on alert {hook.url}"
    bad = _stead(project, "monitor", "create", "x", "--deployment", "cli", "--every", "often")
    assert bad.returncode != 0 and "--every 'often' is not a duration" in bad.stderr
    ran = _stead(project, "monitor", "run", "cli-mon")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("alert: 500 rows; drift (1 of 4 features)")
    assert "alert SteadDataDrift: 1 of 4 features drifted" in ran.stdout
    report = ran.stdout.split("report: ", 1)[1].split()[0]
    assert report.endswith("report.html") and Path(report.removeprefix("file://")).is_file()
    assert hook.bodies[-1]["monitor"] == "cli-mon"
    listed = json.loads(_stead(project, "monitor", "list", "--json").stdout)
    mine = [m for m in listed if m["name"] == "cli-mon"][0]
    assert mine["last_run"]["status"] == "alert" and mine["minimums"] == {"accuracy": 0.8}
    shown = _stead(project, "monitor", "show", "cli-mon")
    assert shown.returncode == 0 and "recent runs of cli-mon" in shown.stdout and "alert" in shown.stdout
    alerts = json.loads(_stead(project, "monitor", "alerts", "--deployment", "cli", "--json").stdout)
    assert [(a["name"], a["status"], a["monitor"]) for a in alerts] == [("SteadDataDrift", "firing", "cli-mon")]
    assert alerts[0]["result"].startswith("delivered: HTTP 200")  # the hook's first answer is a 500: retried
    gone = _stead(project, "monitor", "delete", "cli-mon")
    assert gone.returncode == 0 and gone.stdout.strip() == "deleted monitor cli-mon"
    missing = _stead(project, "monitor", "show", "cli-mon")
    assert missing.returncode != 0 and "No monitor named 'cli-mon'" in missing.stderr
    for verb in ("create", "list", "show", "run", "delete", "alerts"):
        helped = _stead(project, "monitor", verb, "--help")
        assert helped.returncode == 0 and "Example:" in helped.stdout, verb

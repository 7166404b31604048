"""``POST /api/stead/v1/alerts``: Alertmanager's webhook payload, read by a real ``stead server``
and sent by a real Alertmanager (Debian package ``prometheus-alertmanager``)."""

from __future__ import annotations

import copy
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from server_process import free_port, run_server, stead_server
from stead.errors import InvalidParameter
from stead.monitoring.alertmanager import parse_notification

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

# What Alertmanager 0.25 sends (its webhook_config payload, version 4).
PAYLOAD: dict[str, Any] = {
    "receiver": "stead",
    "status": "firing",
    "alerts": [
        {"status": "firing",
         "labels": {"alertname": "SteadDataDrift", "deployment": "churn", "severity": "warning"},
         "annotations": {"summary": "Data drift on deployment churn", "description": "..."},
         "startsAt": "2026-12-04T19:52:26.739266876+02:00", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus:9090/graph?g0.expr=stead_drift_detected+%3D%3D+1",
         "fingerprint": "1a30ba71cca2921f"},
        {"status": "resolved",
         "labels": {"alertname": "SteadServingLatencyP99", "deployment": "fraud", "severity": "warning"},
         "annotations": {"summary": "Deployment fraud answers slowly"},
         "startsAt": "2026-12-04T17:00:00Z", "endsAt": "2026-12-04T17:30:00.5Z",
         "generatorURL": "", "fingerprint": "c6eadffa33fcdf37"},
        {"status": "firing", "labels": {"alertname": "NodeDown", "instance": "db1"}, "annotations": {},
         "startsAt": "2026-12-04T18:00:00Z", "endsAt": "2026-12-04T18:05:00Z", "fingerprint": "0f"},
    ],
    "groupLabels": {"alertname": "SteadDataDrift"},
    "commonLabels": {"severity": "warning"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "version": "4",
    "groupKey": '{}:{alertname="SteadDataDrift"}',
    "truncatedAlerts": 0,
}


def test_parse_a_notification() -> None:
    note = parse_notification(PAYLOAD)
    assert note.summary() == {"receiver": "stead", "status": "firing", "group_key": '{}:{alertname="SteadDataDrift"}',
                              "alerts": 3, "firing": 2, "resolved": 1, "truncated_alerts": 0,
                              "alertnames": ["NodeDown", "SteadDataDrift", "SteadServingLatencyP99"],
                              "deployments": ["churn", "fraud"]}
    drift, slow, node = note.alerts
    assert drift.deployment == "churn" and drift.ends_at is None  # Go's zero time: not set
    assert drift.starts_at == datetime(2026, 12, 4, 17, 52, 26, 739266, tzinfo=timezone.utc)
    assert slow.ends_at == datetime(2026, 12, 4, 17, 30, 0, 500000, tzinfo=timezone.utc)
    assert node.deployment is None and node.generator_url == ""
    assert drift.to_json()["starts_at"] == "2026-12-04T19:52:26.739266+02:00"


def _broken(path: str, value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOAD)
    *parents, last = path.split(".")
    target: Any = payload
    for p in parents:
        target = target[int(p)] if p.isdigit() else target[p]
    key: Any = int(last) if last.isdigit() else last
    if value is KeyError:
        del target[key]
    else:
        target[key] = value
    return payload


@pytest.mark.parametrize(("payload", "message"), [
    ([], "the body must be a JSON object"),
    (_broken("version", "3"), "version '3' is not supported: stead reads version '4'"),
    (_broken("version", KeyError), "version None is not supported"),
    (_broken("status", "pending"), "status must be 'firing' or 'resolved'"),
    (_broken("alerts", {}), "alerts must be a list"),
    (_broken("receiver", 7), "receiver must be a string"),
    (_broken("truncatedAlerts", -1), "truncatedAlerts must be a count"),
    (_broken("alerts.1.status", "active"), r"alerts\[1\].status must be 'firing' or 'resolved'"),
    (_broken("alerts.0.labels", ["x"]), r"alerts\[0\].labels must be an object of strings"),
    (_broken("alerts.0.labels.severity", 2), r"alerts\[0\].labels.severity must be a string"),
    (_broken("alerts.2.labels", {"instance": "db1"}), r"alerts\[2\].labels has no alertname"),
    (_broken("alerts.0.startsAt", "yesterday"), r"alerts\[0\].startsAt 'yesterday' is not an RFC 3339 time"),
    (_broken("alerts.0.startsAt", "2026-12-04T10:00:00"), "has no time zone"),
    (_broken("alerts.0.startsAt", KeyError), r"alerts\[0\].startsAt must be a string"),
    (_broken("alerts.0.startsAt", "0001-01-01T00:00:00Z"), "is the zero time"),
    (_broken("alerts.1.endsAt", "soon"), r"alerts\[1\].endsAt 'soon' is not an RFC 3339 time"),
    (_broken("alerts.0", "alert"), r"alerts\[0\] must be an object"),
    (_broken("commonAnnotations", {"a": None}), "commonAnnotations.a must be a string"),
])
def test_bad_payloads_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse_notification(payload)


def test_the_server_takes_the_webhook(tmp_path: Path) -> None:
    with stead_server(tmp_path / "server") as url:
        r = httpx.post(f"{url}/api/stead/v1/alerts", json=PAYLOAD, timeout=10)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert {k: answer[k] for k in parse_notification(PAYLOAD).summary()} == parse_notification(PAYLOAD).summary()
        assert answer["recorded"] is True and len(answer["events"]) == len(PAYLOAD["alerts"])
        assert answer["actions"] == []  # no monitor: recorded, nothing to do
        bad = httpx.post(f"{url}/api/stead/v1/alerts", json=_broken("alerts.0.startsAt", "yesterday"), timeout=10)
        assert bad.status_code == 400
        assert bad.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Alertmanager payload: "
                              "alerts[0].startsAt 'yesterday' is not an RFC 3339 time"}
        empty = httpx.post(f"{url}/api/stead/v1/alerts", json={**PAYLOAD, "alerts": []}, timeout=10)
        assert empty.status_code == 200 and empty.json()["alerts"] == 0
    log = (tmp_path / "server" / "server.log").read_text()
    assert "alert firing: SteadDataDrift on deployment churn: Data drift on deployment churn" in log
    assert "alert resolved: SteadServingLatencyP99 on deployment fraud: Deployment fraud answers slowly" in log
    assert "alert firing: NodeDown\n" in log
    assert log.count("alert firing: SteadDataDrift") == 1  # the refused payload logged nothing


def test_with_auth_the_webhook_needs_credentials(tmp_path: Path) -> None:
    with stead_server(tmp_path / "server", "--auth") as url:
        r = httpx.post(f"{url}/api/stead/v1/alerts", json=PAYLOAD, timeout=10)
        assert r.status_code == 401, r.text


def _wait_for(check: Any, what: str, deadline_s: float = 30.0) -> None:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > deadline_s:
            raise TimeoutError(f"{what} not seen within {deadline_s} s")
        time.sleep(0.05)


def _sent(am_url: str) -> tuple[float, float]:
    """Alertmanager's own count of webhook notifications: (sent, failed)."""
    sent = failed = 0.0
    for line in httpx.get(f"{am_url}/metrics", timeout=5).text.splitlines():
        if 'integration="webhook"' in line and not line.startswith("#"):
            if line.startswith("alertmanager_notifications_total"):
                sent += float(line.rsplit(" ", 1)[1])
            elif line.startswith("alertmanager_notifications_failed_total"):
                failed += float(line.rsplit(" ", 1)[1])
    return sent, failed


@pytest.mark.skipif(ALERTMANAGER is None, reason="Alertmanager not found: install the Debian package "
                    "`prometheus-alertmanager` (apt-get install prometheus-alertmanager)")
def test_a_real_alertmanager_delivers_firing_and_resolved(tmp_path: Path) -> None:
    assert ALERTMANAGER is not None
    home = tmp_path / "server"
    with stead_server(home) as url:
        config = {
            "route": {"receiver": "stead", "group_by": ["alertname", "deployment"], "group_wait": "0s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "stead", "webhook_configs": [
                {"url": f"{url}/api/stead/v1/alerts", "send_resolved": True}]}],
        }
        (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        argv = [ALERTMANAGER, f"--config.file={tmp_path / 'alertmanager.yml'}",
                f"--storage.path={tmp_path / 'am-data'}", f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address="]
        with run_server(argv, port, health_path="/-/ready", log_path=tmp_path / "alertmanager.log") as am:
            now = datetime.now(timezone.utc)
            alert = {"labels": {"alertname": "SteadServingErrorRate", "deployment": "churn", "severity": "critical"},
                     "annotations": {"summary": "Deployment churn fails too many requests"},
                     "startsAt": now.isoformat()}
            assert httpx.post(f"{am}/api/v2/alerts", json=[alert], timeout=5).status_code == 200
            log = home / "server.log"
            firing = "alert firing: SteadServingErrorRate on deployment churn: Deployment churn fails too many"
            _wait_for(lambda: firing in log.read_text(), "the firing alert in stead's log")
            # resolved: Alertmanager sends the group again with the alert's status "resolved"
            ended = {**alert, "endsAt": (now + timedelta(milliseconds=1)).isoformat()}
            assert httpx.post(f"{am}/api/v2/alerts", json=[ended], timeout=5).status_code == 200
            resolved = "alert resolved: SteadServingErrorRate on deployment churn"
            _wait_for(lambda: resolved in log.read_text(), "the resolved alert in stead's log")
            sent, failed = _sent(am)
            assert sent >= 2 and failed == 0, (sent, failed, (tmp_path / "alertmanager.log").read_text()[-2000:])

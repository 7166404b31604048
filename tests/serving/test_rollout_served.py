"""Rollouts against a real ``stead serve --deployment`` process taking real requests: a good
candidate is stepped up and promoted (the primary's alias moves to it), then a broken one
(it fails for older customers) is rolled back; started with the real ``stead deploy rollout``
CLI, analysed by ``tick`` with explicit ``now`` values, and read back with ``stead deploy
history`` and ``stead deploy ab-report``. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

import httpx

from rollout_helpers import register_candidates
from serving_helpers import COLUMNS, Home, stead, wait_for
from stead.artifacts import open_artifact_store
from stead.monitoring import rollout as ro
from stead.monitoring.variants import read_variants
from stead.serving import health
from stead.serving.deployments import Deployments, Variant
from stead.store import open_store

OLDER = {"dataframe_split": {"columns": COLUMNS, "data": [[1.0, 0.2, -0.3]]}}  # age > 0.5: the broken one fails


def _serving(store, variant: str, version: str):  # type: ignore[no-untyped-def]
    return lambda: any(r.variant == variant and r.state == "live" and r.model_version == version
                       for r in health.current(store, "churn"))


def _window(svc, artifacts, url: str, requests: int) -> ro.Decision:  # type: ignore[no-untyped-def]
    """Send ``requests`` to the server, wait until the log holds them and the interval is
    over, then make the one decision due."""
    r = ro.current(svc.store, "churn")
    with httpx.Client(timeout=30) as client:
        for _ in range(requests):
            client.post(f"{url}/invocations", json=OLDER)
    start = r.updated_at / 1000
    wait_for("the requests in the log", lambda: sum(
        s.requests for s in read_variants(artifacts, "churn", start, time.time() + 1).values()) >= requests)
    wait_for("the interval to end", lambda: time.time() >= r.due_at + 0.01)
    [d] = ro.tick(svc.store, artifacts, time.time(), registry=svc.registry)
    return d


def test_a_good_candidate_is_promoted_and_a_broken_one_rolled_back(home: Home, serve) -> None:
    good, broken = register_candidates(home)
    store = open_store(home.store_url)
    svc = Deployments(store, home.registry())
    artifacts = open_artifact_store(str(home.artifacts))
    svc.create("churn", [Variant("primary", "churn@production", 100)])
    refused = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@candidate", "--step", "60", "--max", "50")
    assert refused.returncode != 0 and "--step 60 is more than --max 50" in refused.stderr
    started = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@candidate", "--step", "25", "--max",
                    "50", "--interval", "1s", "--checks", "2", "--min-samples", "20", "--json")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["weight"] == 25
    try:
        with serve(home, "--deployment", "churn", "--poll", "0.1", "--log-sample", "1", "--log-flush", "0.05",
                   "--trust-pickle") as url:  # the broken candidate is a pickled Python model
            wait_for("the canary live", _serving(store, "canary", str(good)))
            d = _window(svc, artifacts, url, 160)
            assert (d.action, d.verdict, d.weight_after) == ("step", "pass", 50), d.message
            wait_for("the server at 50%", lambda: httpx.get(f"{url}/v2/models/churn").json()["weights"] ==
                     {"primary": 50, "canary": 50})
            d = _window(svc, artifacts, url, 100)
            assert (d.action, d.verdict) == ("promote", "pass"), d.message
            assert d.message.startswith(f"promoted: churn@production: 1 -> {good}")
            assert svc.registry.get_version("churn@production").version == good
            assert [(v.name, v.model, v.weight) for v in svc.get("churn").variants] == [
                ("primary", "churn@production", 100)]
            wait_for("the primary at the promoted version", _serving(store, "primary", str(good)))

            second = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@broken", "--step", "50", "--max",
                           "50", "--interval", "1s", "--checks", "2", "--min-samples", "20")
            assert second.returncode == 0, second.stderr
            wait_for("the broken canary live", _serving(store, "canary", str(broken)))
            d = _window(svc, artifacts, url, 80)
            assert (d.action, d.verdict, ro.current(store, "churn").failed) == ("hold", "fail", 1), d.message
            assert "critical check failed: error_rate" in d.message
            assert d.analysis["variants"]["canary"]["errors"] == d.analysis["variants"]["canary"]["requests"] > 0
            ab = stead(home, "deploy", "ab-report", "churn", "--metric", "error_rate", "--since", "1h",
                       "--min-samples", "20", "--json")
            assert ab.returncode == 0, ab.stderr
            [report] = json.loads(ab.stdout)["reports"]
            assert report["b"]["name"] == "canary" and report["b"]["mean"] == 1.0 and report["winner"] == "primary"
            d = _window(svc, artifacts, url, 80)
            assert (d.action, d.weight_after) == ("rollback", 0), d.message
            assert [v.name for v in svc.get("churn").variants] == ["primary"]
            assert svc.registry.get_version("churn@production").version == good  # the alias stayed
            wait_for("the server without the canary", lambda: httpx.get(f"{url}/v2/models/churn").json()["weights"]
                     == {"primary": 100})
    finally:
        store.dispose()

    shown = stead(home, "deploy", "history", "churn")
    assert shown.returncode == 0, shown.stderr
    for word in ("start", "step", "promote", "hold", "rollback", "requests"):
        assert word in shown.stdout
    status = stead(home, "deploy", "rollout", "status", "churn", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["state"] == "rolled_back"
    ab = stead(home, "deploy", "ab-report", "churn", "--metric", "latency", "--since", "1h")
    assert ab.returncode == 0 and "deployment churn has one live variant" in ab.stdout

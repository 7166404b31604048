"""A variant that cannot load, as a user meets it: `stead serve --deployment` reports it
(readiness, model metadata, /metrics, one log line) and gives it no traffic, and
`stead deploy promote` refuses to promote it unless --force. Real CLI and server processes."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from serving_helpers import COLUMNS, Home, expected, register_broken, rows, stead, wait_for


def _gauges(url: str, name: str) -> dict[str, float]:
    families = text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
    return {s.labels["variant"]: s.value for f in families if f.name == name for s in f.samples}


def test_canary_that_cannot_load_is_shown_gets_no_traffic_and_is_not_promoted(home: Home, serve_logged) -> None:
    broken = register_broken(home)
    created = stead(home, "deploy", "create", "churn", "--model", "churn@production", "--canary", "churn@broken",
                    "--weight", "10")
    assert created.returncode == 0, created.stderr

    # No server reports on the deployment yet: nothing to vouch for the canary.
    refused = stead(home, "deploy", "promote", "churn")
    assert refused.returncode != 0 and "no model server reports on deployment churn" in refused.stderr

    x = rows(1, seed=4)
    body = {"dataframe_split": {"columns": COLUMNS, "data": x.tolist()}}
    with serve_logged(home, "--deployment", "churn") as (url, log):
        ready = httpx.get(f"{url}/v2/health/ready")
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "variants": {"primary": "live", "canary": "failed"}}
        meta = httpx.get(f"{url}/v2/models/churn").json()
        assert meta["versions"] == ["1"] and meta["weights"] == {"primary": 100, "canary": 0}
        canary = next(v for v in meta["variants"] if v["name"] == "canary")
        assert canary["state"] == "failed" and canary["configured_weight"] == 10 and canary["weight"] == 0
        assert f"cannot load churn@broken (version {broken})" in canary["error"]
        assert _gauges(url, "stead_serving_variant_up") == {"primary": 1.0, "canary": 0.0}
        assert _gauges(url, "stead_serving_variant_traffic_weight") == {"primary": 100.0, "canary": 0.0}

        answered = [httpx.post(f"{url}/invocations", json=body) for _ in range(100)]
        assert {(r.status_code, r.headers["x-stead-variant"]) for r in answered} == {(200, "primary")}
        assert {str(r.json()["predictions"]) for r in answered} == {str(expected(home, 1, x))}

        status = stead(home, "deploy", "status", "churn")
        assert status.returncode == 0 and "failed" in status.stdout and "cannot load" in status.stdout

        refused = stead(home, "deploy", "promote", "churn")
        assert refused.returncode != 0
        assert "Refusing to promote variant canary" in refused.stderr and "canary is failed" in refused.stderr
        assert "--force" in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert home.registry().get_version_by_alias("churn", "production").version == 1
        shown = stead(home, "deploy", "show", "churn", "--json")
        assert '"weight": 10' in shown.stdout  # the refused promotion changed nothing

        forced = stead(home, "deploy", "promote", "churn", "--force")
        assert forced.returncode == 0, forced.stderr
        assert forced.stdout.splitlines()[0] == f"churn@production: 1 -> {broken}"
        assert home.registry().get_version_by_alias("churn", "production").version == broken

    # The server stopped cleanly and withdrew its reports: nothing stands for the deployment now.
    after = stead(home, "deploy", "status", "churn")
    assert after.returncode == 0 and "no model server reports on deployment churn" in after.stdout
    text = log.read_text()
    down = [line for line in text.splitlines() if "variant canary is down" in line]
    assert len(down) == 1, text
    assert f"cannot load churn@broken (version {broken})" in down[0] and "traffic now primary=100" in down[0]
    assert "Traceback" not in text


def test_promotion_needs_every_reporting_server_and_ignores_expired_reports(home: Home) -> None:
    from stead.serving import health
    from stead.serving.deployments import Deployments, Variant
    from stead.serving.variants import FAILED, LIVE, VariantState
    from stead.store import open_store
    from stead.errors import InvalidState

    store = open_store(home.store_url)
    svc = Deployments(store, home.registry())
    svc.create("churn", [Variant("primary", "churn@production", 90), Variant("canary", "churn@staging", 10)])

    def states(canary_state: str, version: str) -> list[VariantState]:
        return [VariantState("primary", "churn@production", 90, False, LIVE, "1", applied=90),
                VariantState("canary", "churn@staging", 10, False, canary_state, version, applied=10)]

    health.report(store, "churn", "a:1:x", states(LIVE, "2"), ttl=60_000)
    health.report(store, "churn", "b:2:y", states(FAILED, "2"), ttl=60_000)
    try:
        svc.promote("churn")
    except InvalidState as exc:
        assert "b:2:y: canary is failed" in exc.message and "a:1:x" not in exc.message
    else:
        raise AssertionError("promoted a canary that one server cannot load")
    health.report(store, "churn", "b:2:y", states(FAILED, "2"), ttl=-1)  # that server died long ago
    assert [r.server for r in health.current(store, "churn")] == ["a:1:x", "a:1:x"]
    moved = svc.promote("churn")
    assert str(moved) == "churn@production: 1 -> 2"
    assert home.registry().get_version_by_alias("churn", "production").version == 2
    health.withdraw(store, "churn", "a:1:x")
    assert health.current(store, "churn") == []

"""Deployments on SQLite and PostgreSQL: canary split, sticky A/B, shadows, promotion under load."""

from __future__ import annotations

import math
import time

import httpx
import pytest

from serving_helpers import COLUMNS, Home, RequestLoop, expected, rows, wait_for


def _service(home: Home):  # type: ignore[no-untyped-def]
    from stead.serving.deployments import Deployments
    from stead.store import open_store

    return Deployments(open_store(home.store_url), home.registry())


def _variants(*spec: tuple[str, str, int, bool]):  # type: ignore[no-untyped-def]
    from stead.serving.deployments import Variant

    return [Variant(n, m, w, s) for n, m, w, s in spec]


def test_deployment_records_and_traffic_rules(home: Home) -> None:
    from stead.errors import AlreadyExists, InvalidParameter, NotFound

    svc = _service(home)
    dep = svc.create("churn", _variants(("primary", "churn@production", 90, False),
                                        ("canary", "churn@staging", 10, False)))
    assert [(v.name, v.weight) for v in dep.variants] == [("primary", 90), ("canary", 10)]
    with pytest.raises(AlreadyExists):
        svc.create("churn", _variants(("primary", "churn@production", 100, False)))
    with pytest.raises(InvalidParameter, match="add up to 100"):
        svc.set_traffic("churn", {"canary": 50})
    assert svc.set_traffic("churn", {"primary": 50, "canary": 50}).variant("canary").weight == 50
    assert [d.name for d in svc.list()] == ["churn"]
    promoted = svc.promote("churn", force=True)  # no model server reports on it: only --force promotes
    assert str(promoted) == "churn@production: 1 -> 2"
    assert home.registry().get_version_by_alias("churn", "production").version == 2
    assert [(v.name, v.weight) for v in promoted.deployment.variants] == [("primary", 100), ("canary", 0)]
    assert str(svc.rollback("churn")) == "churn@production: 2 -> 1"
    assert home.registry().get_version_by_alias("churn", "production").version == 1
    svc.delete("churn")
    with pytest.raises(NotFound):
        svc.get("churn")


def test_canary_split_is_observed_within_tolerance(home: Home, serve) -> None:
    _service(home).create("churn", _variants(("primary", "churn@production", 90, False),
                                             ("canary", "churn@staging", 10, False)))
    n, p = 2000, 0.10
    x = rows(1, seed=3)
    body = {"dataframe_split": {"columns": COLUMNS, "data": x.tolist()}}
    answers = {"primary": expected(home, 1, x), "canary": expected(home, 2, x)}
    counts = {"primary": 0, "canary": 0}
    with serve(home, "--deployment", "churn") as url, httpx.Client() as client:
        for _ in range(n):
            r = client.post(f"{url}/invocations", json=body)
            assert r.status_code == 200
            variant = r.headers["x-stead-variant"]
            assert r.json()["predictions"] == answers[variant]
            counts[variant] += 1
    # binomial: a 5-sigma band fails a correct router about once in 1.7 million runs
    tolerance = 5 * math.sqrt(n * p * (1 - p))
    assert abs(counts["canary"] - n * p) <= tolerance, (counts, tolerance)


def test_ab_split_is_sticky_by_header(home: Home, serve) -> None:
    from stead.serving.deployments import Variant

    _service(home).create("churn", [Variant("a", "churn@production", 50), Variant("b", "churn@staging", 50)],
                          sticky_header="X-User")
    body = {"inputs": rows(1).tolist()}
    seen: dict[str, set[str]] = {}
    with serve(home, "--deployment", "churn") as url, httpx.Client() as client:
        for user in range(60):
            for _ in range(4):
                r = client.post(f"{url}/invocations", json=body, headers={"X-User": f"user-{user}"})
                seen.setdefault(f"user-{user}", set()).add(r.headers["x-stead-variant"])
    assert all(len(v) == 1 for v in seen.values()), "a user moved between arms"
    arms = [next(iter(v)) for v in seen.values()]
    assert {"a", "b"} == set(arms)


def test_shadow_answers_are_logged_never_returned(home: Home, serve) -> None:
    """...and every logged row carries the id the client was answered under (its own, or a new
    one), the shadow's row the primary's: labels sent later join them by that id."""
    from stead.artifacts.factory import open_artifact_store
    from stead.serving.prediction_log import read_prediction_log

    _service(home).create("churn", _variants(("primary", "churn@production", 100, False),
                                             ("shadow", "churn/2", 0, True)))
    xs = [rows(2, seed=50 + i) for i in range(20)]
    answered: list[str] = []
    with serve(home, "--deployment", "churn", "--log-sample", "1", "--log-flush", "0.05") as url:
        for i, x in enumerate(xs):
            given = {"x-request-id": f"client-{i}"} if i % 2 else {}
            r = httpx.post(f"{url}/invocations", json={"dataframe_split": {"columns": COLUMNS, "data": x.tolist()}},
                           headers=given)
            assert r.status_code == 200 and r.headers["x-stead-variant"] == "primary"
            assert r.json()["predictions"] == expected(home, 1, x)
            assert r.headers["x-request-id"] == given.get("x-request-id", r.headers["x-request-id"])
            answered.append(r.headers["x-request-id"])
        v2 = httpx.post(f"{url}/v2/models/churn/infer", json={"inputs": [
            {"name": c, "shape": [1], "datatype": "FP64", "data": [float(v)]} for c, v in zip(COLUMNS, xs[0][0])]})
        assert v2.status_code == 200 and v2.json()["id"] == v2.headers["x-request-id"] != ""
    # the server drained and flushed its log on SIGTERM
    table = read_prediction_log(open_artifact_store(str(home.artifacts)), "churn").to_pylist()
    primary = [t for t in table if not t["shadow"]]
    shadow = [t for t in table if t["shadow"]]
    assert len(primary) == 21 and len(shadow) == 21
    assert [t["request_id"] for t in primary if t["protocol"] == "mlflow"] == answered
    assert [t["request_id"] for t in primary if t["protocol"] == "v2"] == [v2.json()["id"]]
    assert sorted(t["request_id"] for t in shadow) == sorted(t["request_id"] for t in primary)
    assert {t["variant"] for t in shadow} == {"shadow"} and {t["model_version"] for t in shadow} == {"2"}
    import json

    logged = sorted(json.loads(t["outputs"])["predict"] for t in shadow)
    assert logged == sorted([expected(home, 2, x) for x in xs] + [expected(home, 2, xs[0][:1])])
    assert all(t["latency_ms"] >= 0 and t["time"] is not None for t in table)


def test_promotion_under_load_fails_no_request(home: Home, serve) -> None:
    svc = _service(home)
    svc.create("churn", _variants(("primary", "churn@production", 90, False), ("canary", "churn@staging", 10, False)))
    x = rows(1, seed=9)
    body = {"dataframe_split": {"columns": COLUMNS, "data": x.tolist()}}
    by_version = {"1": expected(home, 1, x), "2": expected(home, 2, x)}
    with serve(home, "--deployment", "churn", "--poll", "0.2") as url:
        with RequestLoop(url, body, by_version, threads=3) as loop:
            versions = loop.answers
            deadline = time.monotonic() + 30
            while len(versions) < 50 and time.monotonic() < deadline:
                time.sleep(0.01)
            # The gate reads what the server reported: the canary is live at version 2 there.
            assert str(svc.promote("churn", reason="test")) == "churn@production: 1 -> 2"
            deadline = time.monotonic() + 30
            # The alias move and the new weights may reach the server one poll apart.
            while (meta := httpx.get(f"{url}/v2/models/churn").json())["versions"] != ["2", "2"] or \
                    meta["weights"] != {"primary": 100, "canary": 0}:
                assert time.monotonic() < deadline, "the server did not follow the promotion"
                time.sleep(0.05)
            mark = len(versions)
            while len(versions) < mark + 50 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert loop.failures == []
        assert ("primary", "1") in versions[:mark] and all(v == ("primary", "2") for v in versions[mark + 10:])
        metrics = httpx.get(f"{url}/metrics").text
        assert "stead_serving_model_swaps_total" in metrics

        def retired() -> bool:  # the old model of the primary is unloaded once its queue drained
            text = httpx.get(f"{url}/metrics").text
            return 'stead_serving_model_ready{deployment="churn",model_version="1",variant="primary"} 0.0' in text

        wait_for("version 1 of the primary to be unloaded", retired)

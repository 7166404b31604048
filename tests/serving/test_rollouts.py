"""Progressive rollouts on a real store (SQLite and PostgreSQL) driven by ``tick`` with
explicit ``now`` values over a prediction log written with known times: steps up, holds on a
failed analysis and rolls back at the N-th, pauses when promotion is refused (no model server
reports), person's pause/resume/abort, refusals that change nothing, and two controllers that
make one decision per interval."""

from __future__ import annotations

import threading
import time

import pytest

from rollout_helpers import register_candidates, write_log
from serving_helpers import Home
from stead.artifacts import open_artifact_store
from stead.errors import InvalidParameter, InvalidState, NotFound
from stead.monitoring import rollout as ro
from stead.serving.deployments import Deployments, Variant
from stead.store import open_store

T = time.time() - 7200  # the rollouts start two hours ago; the log is written with times after T


@pytest.fixture
def churn(home: Home):  # type: ignore[no-untyped-def]
    store = open_store(home.store_url)
    svc = Deployments(store, home.registry())
    svc.create("churn", [Variant("primary", "churn@production", 100)])
    good, broken = register_candidates(home)
    yield svc, open_artifact_store(str(home.artifacts)), good, broken
    store.dispose()


def _at(good: int) -> dict[str, str]:
    return {"primary": "1", "canary": str(good)}


def _weights(svc: Deployments) -> dict[str, int]:
    return {v.name: v.weight for v in svc.get("churn").variants}


def test_steps_up_holds_on_a_failure_and_rolls_back_at_the_nth(churn) -> None:
    svc, artifacts, good, _ = churn
    r = ro.start(svc, "churn", "churn@candidate", step=20, max_weight=60, interval_s=60, checks=2,
                 options={"min_samples": 30}, now=T)
    assert (r.state, r.weight, r.candidate_version) == ("progressing", 20, str(good))
    assert _weights(svc) == {"primary": 80, "canary": 20}
    assert svc.get("churn").variant("canary").model == f"churn/{good}"  # pinned to what it resolved to
    assert ro.tick(svc.store, artifacts, T + 59, registry=svc.registry) == []  # not due yet

    write_log(artifacts, T, T + 60, {"primary": (200, 0), "canary": (50, 0)}, _at(good))
    now = ro.analysis_now(svc, artifacts, "churn", now=T + 60)  # what GET .../analysis answers
    assert (now["pass"], now["verdict"], now["candidate"], now["rollout"]["id"]) == (True, "pass", "canary", r.id)
    assert now["window"] == {"start": round(T * 1000), "end": round((T + 60) * 1000)}
    [d] = ro.tick(svc.store, artifacts, T + 60, registry=svc.registry)
    assert (d.action, d.verdict, d.weight_before, d.weight_after) == ("step", "pass", 20, 40)
    assert d.analysis["variants"]["canary"]["requests"] == 50 and d.window_start == round(T * 1000)
    assert _weights(svc) == {"primary": 60, "canary": 40}

    write_log(artifacts, T + 60, T + 120, {"primary": (200, 0), "canary": (60, 40)}, _at(good), seed=1)
    [d] = ro.tick(svc.store, artifacts, T + 120, registry=svc.registry)
    assert (d.action, d.verdict, d.score, d.weight_after) == ("hold", "fail", 0.0, 40)
    assert "critical check failed: error_rate" in d.message
    assert ro.current(svc.store, "churn").failed == 1

    # no traffic at all in the next window: no data counts against the candidate
    [d] = ro.tick(svc.store, artifacts, T + 180, registry=svc.registry)
    assert (d.action, d.verdict, d.weight_after) == ("rollback", "fail", 0)
    r = ro.current(svc.store, "churn")
    assert (r.state, r.weight, r.failed) == ("rolled_back", 0, 2)
    assert _weights(svc) == {"primary": 100}  # the canary variant is removed
    assert svc.registry.get_version("churn@production").version == 1  # the alias never moved
    assert [d.action for _, d in ro.history(svc.store, "churn")] == ["start", "step", "hold", "rollback"]
    assert ro.tick(svc.store, artifacts, T + 1000, registry=svc.registry) == []


def test_a_pass_at_the_maximum_promotes_but_a_refused_promotion_pauses(churn) -> None:
    svc, artifacts, good, _ = churn
    ro.start(svc, "churn", "churn@candidate", step=50, max_weight=50, interval_s=60, checks=1,
             options={"min_samples": 30}, now=T)
    write_log(artifacts, T, T + 60, {"primary": (100, 0), "canary": (100, 0)}, _at(good))
    [d] = ro.tick(svc.store, artifacts, T + 60, registry=svc.registry)
    # no model server reports on the deployment, so the gate of stead deploy promote refuses it
    assert (d.action, d.verdict, d.weight_after) == ("pause", "pass", 50)
    assert d.message.startswith("promotion refused, paused: Refusing to promote variant canary")
    assert "no model server reports on deployment churn" in d.message
    assert ro.current(svc.store, "churn").state == "paused"
    assert ro.tick(svc.store, artifacts, T + 600, registry=svc.registry) == []  # paused: not analysed

    with pytest.raises(InvalidState, match="must be progressing to pause"):
        ro.pause(svc, "churn", now=T + 61)
    r = ro.resume(svc, "churn", now=T + 100)
    assert (r.state, r.updated_at) == ("progressing", round((T + 100) * 1000))
    r = ro.pause(svc, "churn", reason="looking at it", now=T + 110)
    assert (r.state, r.reason) == ("paused", "looking at it")
    r = ro.abort(svc, "churn", now=T + 120)
    assert (r.state, r.weight) == ("aborted", 0)
    assert _weights(svc) == {"primary": 100}
    with pytest.raises(NotFound, match="has no rollout in progress"):
        ro.abort(svc, "churn")
    assert [(d.action, d.verdict) for _, d in ro.history(svc.store, "churn")] == [
        ("start", None), ("pause", "pass"), ("resume", None), ("pause", None), ("abort", None)]


def test_bad_input_is_refused_and_changes_nothing(churn) -> None:
    svc, _, _, _ = churn
    with pytest.raises(NotFound, match="Deployment 'nope' does not exist"):
        ro.start(svc, "nope", "churn@candidate")
    with pytest.raises(NotFound, match="Candidate 'churn@missing' does not resolve"):
        ro.start(svc, "churn", "churn@missing")
    with pytest.raises(InvalidParameter, match="--step 60 is more than --max 50"):
        ro.start(svc, "churn", "churn@candidate", step=60, max_weight=50)
    with pytest.raises(InvalidParameter, match="--checks must be at least 1"):
        ro.start(svc, "churn", "churn@candidate", checks=0)
    with pytest.raises(InvalidParameter, match="must be NAME@ALIAS or NAME/VERSION"):
        ro.start(svc, "churn", "churn")
    with pytest.raises(InvalidParameter, match="is version 1, which the primary of 'churn' serves already"):
        ro.start(svc, "churn", "churn/1")
    assert _weights(svc) == {"primary": 100}
    with pytest.raises(NotFound, match="has no rollout"):
        ro.current(svc.store, "churn")

    ro.start(svc, "churn", "churn@candidate", step=10, now=T)
    with pytest.raises(InvalidState, match="already has a rollout progressing"):
        ro.start(svc, "churn", "churn@broken")
    assert _weights(svc) == {"primary": 90, "canary": 10}
    assert len(ro.history(svc.store, "churn")) == 1


def test_two_controllers_make_one_decision_per_interval(churn, home: Home) -> None:
    svc, artifacts, good, _ = churn
    r = ro.start(svc, "churn", "churn@candidate", step=10, max_weight=50, interval_s=60,
                 options={"min_samples": 30}, now=T)
    write_log(artifacts, T, T + 60, {"primary": (100, 0), "canary": (60, 0)}, _at(good))
    # one that read the rollout before the other claimed it loses the claim
    assert ro.claim(svc.store, r, T + 60) is True
    assert ro.claim(svc.store, r, T + 60) is False
    with svc.store.write() as conn:  # give the interval back, as if nobody had claimed it
        from stead.serving.tables import rollouts as t

        conn.execute(t.update().where(t.c.id == r.id).values(updated_at=r.updated_at))

    stores = [open_store(home.store_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    made: list[list[ro.Decision]] = []

    def controller(store) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        made.append(ro.tick(store, artifacts, T + 60, registry=svc.registry))

    threads = [threading.Thread(target=controller, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    for s in stores:
        s.dispose()
    assert sorted(len(m) for m in made) == [0, 1]
    assert [d.action for _, d in ro.history(svc.store, "churn")] == ["start", "step"]
    assert ro.current(svc.store, "churn").weight == 20


def test_ab_report_on_labelled_traffic_and_versions_kept_apart(churn) -> None:
    from stead.monitoring.labels import write_labels
    from stead.monitoring.variants import ab_reports, read_variants

    svc, artifacts, good, _ = churn
    svc.save_variants(svc.get("churn"), (Variant("primary", "churn@production", 50),
                                         Variant("canary", f"churn/{good}", 50)))
    ids = write_log(artifacts, T, T + 60, {"primary": (400, 0), "canary": (400, 0)}, _at(good))
    write_log(artifacts, T, T + 60, {"canary": (500, 500)}, {"canary": "2"}, seed=3)  # an older candidate's rows
    # every prediction is 1: the primary is always right, the canary right 70 % of the time
    labels = {rid: 1 for rid in ids["primary"]}
    labels.update({rid: int(i % 10 < 7) for i, rid in enumerate(ids["canary"])})
    write_labels(svc.store, artifacts, "churn", labels)
    samples = read_variants(artifacts, "churn", T, T + 60, versions=_at(good))
    assert {n: (s.requests, s.errors, s.labelled) for n, s in samples.items()} == {
        "primary": (400, 0, 400), "canary": (400, 0, 400)}
    [report] = ab_reports(samples, "accuracy", "primary", min_effect=0.02)
    assert (report.a.name, report.a.mean, report.b.name, report.b.mean) == ("primary", 1.0, "canary", 0.7)
    assert report.winner == "primary" and report.p_value < 0.001
    assert report.verdict.startswith("primary beats canary on accuracy: +30.0 points")
    [latency] = ab_reports(samples, "latency", "primary")
    assert latency.winner is None and latency.kind == "mean"
    with pytest.raises(InvalidParameter, match="metric must be one of accuracy, latency, error_rate"):
        ab_reports(samples, "auc", "primary")
    # without the version filter the older candidate's failures count too
    assert read_variants(artifacts, "churn", T, T + 60)["canary"].errors == 500


def test_an_analysis_that_cannot_run_is_recorded_and_the_others_go_on(churn) -> None:
    svc, artifacts, good, _ = churn
    ro.start(svc, "churn", "churn@candidate", interval_s=60, options={"min_samples": 30}, now=T)
    artifacts.put_bytes(b"not parquet", "prediction-logs/churn/date=" +
                        time.strftime("%Y-%m-%d", time.gmtime(T)) + f"/{round(T * 1000) + 5}-1-bad.parquet")
    [d] = ro.tick(svc.store, artifacts, T + 60, registry=svc.registry)
    assert d.action == "error" and d.message.startswith("the analysis failed, tried again next interval")
    r = ro.current(svc.store, "churn")
    assert (r.state, r.weight, r.failed, r.updated_at) == ("progressing", 10, 0, round((T + 60) * 1000))


def test_a_rollout_of_a_deleted_deployment_is_stopped_at_its_next_tick(churn) -> None:
    svc, artifacts, _, _ = churn
    ro.start(svc, "churn", "churn@candidate", interval_s=60, now=T)
    svc.delete("churn")
    [d] = ro.tick(svc.store, artifacts, T + 60, registry=svc.registry)
    assert (d.action, d.verdict, d.weight_after) == ("abort", None, 0)
    assert d.message == "stopped: Deployment 'churn' does not exist; list them with stead deploy list"
    assert ro.current(svc.store, "churn").state == "aborted"

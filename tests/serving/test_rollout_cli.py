"""``stead deploy rollout | history`` as a user runs them (real CLI processes, SQLite and
PostgreSQL): clear errors for bad input, status / pause / resume / abort, and ``--wait`` (or
``watch``) running the analyses until the rollout ends (here: no traffic, so the analysis
fails and the rollout rolls back at the first failed check)."""

from __future__ import annotations

import json

from rollout_helpers import register_candidates
from serving_helpers import Home, stead


def test_bad_input_status_pause_resume_abort(home: Home) -> None:
    register_candidates(home)
    assert stead(home, "deploy", "create", "churn", "--model", "churn@production").returncode == 0
    unknown = stead(home, "deploy", "rollout", "nope", "--candidate", "churn@candidate")
    assert unknown.returncode != 0
    assert "RESOURCE_DOES_NOT_EXIST" in unknown.stderr and "Deployment 'nope' does not exist" in unknown.stderr
    missing = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@gone")
    assert missing.returncode != 0 and "Candidate 'churn@gone' does not resolve" in missing.stderr
    for args, words in ((["--step", "60", "--max", "50"], "--step 60 is more than --max 50"),
                        (["--interval", "soon"], "--interval 'soon' is not a positive duration")):
        bad = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@candidate", *args)
        assert bad.returncode != 0 and words in bad.stderr, bad.stderr
    none = stead(home, "deploy", "rollout", "status", "churn")
    assert none.returncode != 0 and "has no rollout" in none.stderr

    started = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@candidate", "--step", "10")
    assert started.returncode == 0, started.stderr
    assert "rollout 1 of deployment churn" in started.stdout and "progressing" in started.stdout
    again = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@broken")
    assert again.returncode != 0 and "already has a rollout progressing" in again.stderr
    paused = stead(home, "deploy", "rollout", "pause", "churn", "--reason", "on call is away", "--json")
    assert paused.returncode == 0 and json.loads(paused.stdout)["state"] == "paused"
    assert json.loads(stead(home, "deploy", "rollout", "resume", "churn", "--json").stdout)["state"] == "progressing"
    aborted = stead(home, "deploy", "rollout", "abort", "churn", "--json")
    assert aborted.returncode == 0 and json.loads(aborted.stdout)["state"] == "aborted"
    shown = json.loads(stead(home, "deploy", "show", "churn", "--json").stdout)
    assert [(v["name"], v["weight"]) for v in shown["variants"]] == [("primary", 100)]
    history = json.loads(stead(home, "deploy", "history", "churn", "--json").stdout)
    assert [(d["action"], d["message"]) for d in history][1:] == [
        ("pause", "on call is away"), ("resume", "resumed by a person"), ("abort", "aborted by a person")]


def test_wait_runs_the_analyses_until_the_rollout_ends(home: Home) -> None:
    register_candidates(home)
    assert stead(home, "deploy", "create", "churn", "--model", "churn@production").returncode == 0
    done = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@candidate", "--interval", "1s",
                 "--checks", "1", "--wait")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("rollout 1: churn@candidate (version 3) has 10% of churn")
    assert " rollback fail (score 0): 10% -> 0%: analysis failed (1 of 1 allowed): rolling back" in lines[1]
    assert "no data" in lines[1] and lines[-1] == "rollout 1 rolled_back"
    table = stead(home, "deploy", "history", "churn")
    assert table.returncode == 0 and "rollback" in table.stdout and "requests 0/0" in table.stdout

    # without --wait the rollout waits for a controller: watch is one, for the rollout in progress
    started = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@candidate", "--interval", "1s",
                    "--checks", "1")
    assert started.returncode == 0 and "stead deploy rollout watch churn" in started.stdout
    watched = stead(home, "deploy", "rollout", "watch", "churn", "--json")
    assert watched.returncode == 1
    [decision] = [json.loads(line) for line in watched.stdout.splitlines()]
    assert (decision["rollout_id"], decision["action"], decision["verdict"]) == (2, "rollback", "fail")


def test_ab_report_prints_a_row_per_variant_and_a_verdict(home: Home) -> None:
    import time

    from rollout_helpers import write_log
    from stead.artifacts import open_artifact_store
    from stead.monitoring.labels import write_labels
    from stead.store import open_store

    good, _ = register_candidates(home)
    assert stead(home, "deploy", "create", "churn", "--model", "churn@production", "--canary", "churn@candidate",
                 "--weight", "50").returncode == 0
    artifacts = open_artifact_store(str(home.artifacts))
    now = time.time()
    ids = write_log(artifacts, now - 600, now - 1, {"primary": (300, 0), "canary": (300, 0)},
                    {"primary": "1", "canary": str(good)})
    labels = {rid: 1 for rid in ids["primary"]} | {rid: int(i % 5 > 0) for i, rid in enumerate(ids["canary"])}
    store = open_store(home.store_url)
    try:
        write_labels(store, artifacts, "churn", labels)
    finally:
        store.dispose()
    shown = stead(home, "deploy", "ab-report", "churn", "--metric", "accuracy", "--since", "1h")
    assert shown.returncode == 0, shown.stderr
    assert "A/B on accuracy of deployment churn" in shown.stdout and "(baseline)" in shown.stdout
    assert shown.stdout.strip().splitlines()[-1].startswith(
        "canary vs primary: primary beats canary on accuracy: +20.0 points, p=0.0029 (always valid)")
    bad = stead(home, "deploy", "ab-report", "churn", "--metric", "auc")
    assert bad.returncode != 0 and "metric must be one of accuracy, latency, error_rate" in bad.stderr


def test_two_watching_processes_make_one_decision(home: Home) -> None:
    import subprocess
    import sys

    register_candidates(home)
    assert stead(home, "deploy", "create", "churn", "--model", "churn@production").returncode == 0
    started = stead(home, "deploy", "rollout", "churn", "--candidate", "churn@candidate", "--interval", "2s",
                    "--checks", "1")
    assert started.returncode == 0, started.stderr
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "deploy", "rollout", "watch", "churn",
            "--json"]
    procs = [subprocess.Popen(argv, env={**home.env(), "COLUMNS": "200"}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [1, 1], [err for _, err in outs]
    made = [json.loads(line) for out, _ in outs for line in out.splitlines()]
    assert [d["action"] for d in made] == ["rollback"]  # one of the two made it; the other found it done
    history = json.loads(stead(home, "deploy", "history", "churn", "--json").stdout)
    assert [d["action"] for d in history] == ["start", "rollback"]

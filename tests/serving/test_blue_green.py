"""Blue-green as a user runs it: `stead deploy create --strategy blue-green`, `stead serve
--deployment`, `stead deploy switch` and `stead deploy rollback` (the switch back), under a
bounded loop of requests that must all succeed. Real CLI and server processes."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from serving_helpers import COLUMNS, Home, RequestLoop, expected, rows, stead, wait_for


def _weights(url: str) -> dict[str, float]:
    return httpx.get(f"{url}/v2/models/churn").json()["weights"]


def test_switch_and_switch_back_fail_no_request(home: Home, serve) -> None:
    created = stead(home, "deploy", "create", "churn", "--strategy", "blue-green", "--model", "churn@production",
                    "--idle", "churn@staging", "--json")
    assert created.returncode == 0, created.stderr
    refused = stead(home, "deploy", "set-traffic", "churn", "blue=50", "green=50")
    assert refused.returncode != 0 and "blue-green" in refused.stderr

    x = rows(1, seed=11)
    body = {"dataframe_split": {"columns": COLUMNS, "data": x.tolist()}}
    by_version = {"1": expected(home, 1, x), "2": expected(home, 2, x)}
    with serve(home, "--deployment", "churn", "--poll", "0.1") as url:
        # Both colors are loaded and warm before any switch: the idle one too.
        states = {v["name"]: (v["state"], v["model_version"]) for v in
                  httpx.get(f"{url}/v2/models/churn").json()["variants"]}
        assert states == {"blue": ("live", "1"), "green": ("live", "2")}
        assert _weights(url) == {"blue": 100, "green": 0}
        with RequestLoop(url, body, by_version) as loop:
            answers = loop.answers
            wait_for("answers from blue", lambda: len(answers) >= 30)
            # --wait returns once the server reports the switch applied: no polling here.
            switched = stead(home, "deploy", "switch", "churn", "--wait", "30")
            assert switched.returncode == 0, switched.stderr
            assert switched.stdout.splitlines()[0] == "churn: blue (version 1) -> green (version 2)"
            assert _weights(url) == {"blue": 0, "green": 100}
            mark = len(answers)
            wait_for("answers from green", lambda: len(answers) >= mark + 30)

            before_back = len(answers)
            back = stead(home, "deploy", "rollback", "churn", "--wait", "30")
            assert back.returncode == 0, back.stderr
            assert back.stdout.splitlines()[0] == "churn: green (version 2) -> blue (version 1)"
            assert _weights(url) == {"blue": 100, "green": 0}
            mark_back = len(answers)
            wait_for("answers from blue again", lambda: len(answers) >= mark_back + 30)
        metrics = httpx.get(f"{url}/metrics").text

    assert loop.failures == []
    assert ("blue", "1") in answers[:mark] and ("green", "2") in answers[mark:mark_back]
    # A request in flight during the switch may answer from the old color; one made after the
    # server showed the new weights never does.
    assert set(answers[mark + 1:before_back]) == {("green", "2")}
    assert set(answers[mark_back + 1:]) == {("blue", "1")}
    # No model was loaded for either switch: the colors stayed as they were loaded at start.
    swaps = [s for f in text_string_to_metric_families(metrics) if f.name == "stead_serving_model_swaps"
             for s in f.samples if s.name.endswith("_total")]
    assert swaps == []

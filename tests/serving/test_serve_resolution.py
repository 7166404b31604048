"""What `stead serve` does when the model reference names nothing: at start, one line and a
non-zero exit; while serving (an alias removed), the last good model serves on and the
server warns once. Real server processes."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from serving_helpers import COLUMNS, Home, expected, rows, stead, wait_for


@pytest.mark.parametrize("ref, words", [
    ("models:/nope@prod", "Registered Model with name=nope not found"),
    ("models:/churn@prod", "alias prod not found"),
    ("churn/9", "version=9"),
    ("./no-such-model", "No model directory ./no-such-model"),
])
def test_serving_what_does_not_resolve_exits_in_one_line(sqlite_home: Home, ref: str, words: str) -> None:
    done = stead(sqlite_home, "serve", ref, "--port", "0", timeout=60)
    assert done.returncode != 0
    assert f"Cannot serve {ref}" in done.stderr or "No model directory" in done.stderr, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "stead serve" not in done.stdout  # it never got as far as listening


def _polls(url: str) -> float:
    families = text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
    return next(s.value for f in families if f.name == "stead_serving_store_polls" for s in f.samples)


def test_alias_removed_while_serving_keeps_the_last_model_and_warns_once(home: Home, serve_logged) -> None:
    x = rows(2, seed=7)
    body = {"dataframe_split": {"columns": COLUMNS, "data": x.tolist()}}
    with serve_logged(home, "models:/churn@production", "--poll", "0.05") as (url, log):
        assert httpx.post(f"{url}/invocations", json=body).json()["predictions"] == expected(home, 1, x)
        home.registry().delete_alias("churn", "production")

        def warnings() -> list[str]:
            return [line for line in log.read_text().splitlines() if "cannot resolve models:/churn@production" in line]

        wait_for("the warning", warnings)
        polls = _polls(url)
        wait_for("five more polls", lambda: _polls(url) >= polls + 5)  # each would have warned again
        assert len(warnings()) == 1, log.read_text()
        assert "still serving version 1" in warnings()[0] and "Traceback" not in log.read_text()

        answer = httpx.post(f"{url}/invocations", json=body)
        assert answer.status_code == 200 and answer.headers["x-stead-model-version"] == "1"
        assert answer.json()["predictions"] == expected(home, 1, x)
        meta = httpx.get(f"{url}/v2/models/churn").json()
        assert meta["variants"][0]["state"] == "live" and "cannot resolve" in meta["variants"][0]["error"]
        assert httpx.get(f"{url}/v2/health/ready").status_code == 200

        home.registry().set_alias("churn", "production", 2)  # the alias is back, at another version
        wait_for("version 2", lambda: httpx.get(f"{url}/v2/models/churn").json()["versions"] == ["2"])
        assert "error" not in httpx.get(f"{url}/v2/models/churn").json()["variants"][0]
        assert httpx.post(f"{url}/invocations", json=body).json()["predictions"] == expected(home, 2, x)
    assert len(warnings()) == 1

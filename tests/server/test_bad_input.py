"""Bad input is a 400 with a stable code and one clear line, never a 500, on a real server.

Each case once reached the store or the decoder as it was: SQLite's expression depth
(1,000 clauses), an int wider than SQLite's INTEGER (huge ``max_results``, page offsets,
ids), JSON nested thousands deep (a RecursionError), a file name past NAME_MAX (an OSError),
a LIKE pattern long enough to keep a worker matching for minutes.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from stead.tracking.search.grammar import MAX_CLAUSES, MAX_LIST_ITEMS, MAX_ORDER_BY, MAX_PATTERN_LENGTH

API = "/api/2.0/mlflow"
ART = "/api/2.0/mlflow-artifacts/artifacts"


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from server_process import stead_server

    with stead_server(tmp_path_factory.mktemp("bad-input") / "server") as url:
        with httpx.Client(base_url=url, timeout=30) as client:
            eid = client.post(f"{API}/experiments/create", json={"name": "e"}).json()["experiment_id"]
            run = client.post(f"{API}/runs/create", json={"experiment_id": eid}).json()["run"]["info"]
            client.ids = (eid, run["run_id"])  # type: ignore[attr-defined]
            yield client


def _and(clause: str, n: int) -> str:
    return " and ".join(clause.format(i=i) for i in range(n))


def _cases(eid: str, rid: str) -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(name, method, path, request keywords, what the message must say)."""
    huge = 10**30
    many_clauses = _and("params.p{i} = 'x'", MAX_CLAUSES + 800)
    long_like = "tags.t LIKE '" + "%a" * MAX_PATTERN_LENGTH + "'"
    big_list = "run_id IN (" + ", ".join(f"'{i}'" for i in range(MAX_LIST_ITEMS + 1)) + ")"
    deep = '{"name": ' + "[" * 5000 + "]" * 5000 + "}"
    long_name = f"{eid}/{rid}/artifacts/" + "a" * 300
    runs = f"{API}/runs/search"
    return [
        ("runs filter 1,000 clauses", "POST", runs, {"json": {"experiment_ids": [eid], "filter": many_clauses}},
         f"more than {MAX_CLAUSES} clauses"),
        ("experiments filter 1,000 clauses", "POST", f"{API}/experiments/search",
         {"json": {"filter": _and("tags.t{i} = 'x'", 1000)}}, "clauses"),
        ("registered models filter 1,000 clauses", "GET", f"{API}/registered-models/search",
         {"params": {"filter": _and("tags.t{i} = 'x'", 1000)}}, "clauses"),
        ("model versions filter 1,000 clauses", "GET", f"{API}/model-versions/search",
         {"params": {"filter": _and("tags.t{i} = 'x'", 1000)}}, "clauses"),
        ("LIKE pattern too long", "POST", runs, {"json": {"experiment_ids": [eid], "filter": long_like}},
         f"limit of {MAX_PATTERN_LENGTH}"),
        ("IN list too long", "POST", runs, {"json": {"experiment_ids": [eid], "filter": big_list}},
         f"limit of {MAX_LIST_ITEMS}"),
        ("order_by too many keys", "POST", runs,
         {"json": {"experiment_ids": [eid], "order_by": [f"params.p{i}" for i in range(2000)]}},
         f"limit of {MAX_ORDER_BY}"),
        ("runs max_results huge", "POST", runs, {"json": {"experiment_ids": [eid], "max_results": huge}}, "max_results"),
        ("history max_results huge", "GET", f"{API}/metrics/get-history",
         {"params": {"run_id": rid, "metric_key": "m", "max_results": str(huge)}}, "64 bits"),
        ("runs page offset huge", "POST", runs, {"json": {"experiment_ids": [eid], "page_token": _token(huge)}},
         "out of range"),
        ("experiments page offset huge", "POST", f"{API}/experiments/search",
         {"json": {"page_token": _token(huge)}}, "out of range"),
        ("registered models page offset huge", "GET", f"{API}/registered-models/search",
         {"params": {"page_token": _token(huge)}}, "out of range"),
        ("model versions page offset huge", "GET", f"{API}/model-versions/search",
         {"params": {"page_token": _token(huge)}}, "out of range"),
        ("experiment id huge", "GET", f"{API}/experiments/get", {"params": {"experiment_id": "9" * 40}},
         "experiment id"),
        ("metric timestamp huge", "POST", f"{API}/runs/log-metric",
         {"json": {"run_id": rid, "key": "m", "value": 1, "timestamp": huge}}, "64 bits"),
        ("JSON nested 5,000 deep", "POST", f"{API}/experiments/create",
         {"content": deep.encode(), "headers": {"content-type": "application/json"}}, "nested too deeply"),
        ("artifact name over NAME_MAX (upload)", "PUT", f"{ART}/{long_name}", {"content": b"x"}, "255 bytes"),
        ("artifact name over NAME_MAX (download)", "GET", f"{ART}/{long_name}", {}, "255 bytes"),
        ("artifact name over NAME_MAX (list)", "GET", f"{API}/artifacts/list",
         {"params": {"run_id": rid, "path": "a" * 300}}, "255 bytes"),
    ]


CASE_NAMES = [c[0] for c in _cases("0", "r")]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_input_is_a_400(server: httpx.Client, name: str) -> None:
    eid, rid = server.ids  # type: ignore[attr-defined]
    _, method, path, kwargs, says = next(c for c in _cases(eid, rid) if c[0] == name)
    r = server.request(method, path, **kwargs)
    assert r.status_code == 400, (name, r.status_code, r.text[:300])
    body = r.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE", body
    assert says in body["message"], body["message"][:300]
    assert "Traceback" not in body["message"]


def test_the_largest_allowed_filter_still_runs(server: httpx.Client) -> None:
    """The caps sit below what SQLite refuses: a filter at every limit is answered."""
    eid, _ = server.ids  # type: ignore[attr-defined]
    clauses = _and("params.p{i} LIKE '" + "%" * (MAX_PATTERN_LENGTH - 4) + "x{i}'", MAX_CLAUSES - 1)
    clauses += " and run_id IN (" + ", ".join(f"'{i}'" for i in range(MAX_LIST_ITEMS)) + ")"
    order = [f"metrics.m{i}" for i in range(MAX_ORDER_BY)]
    r = server.post(f"{API}/runs/search", json={"experiment_ids": [eid], "filter": clauses, "order_by": order})
    assert r.status_code == 200, r.text[:300]


@pytest.mark.parametrize("clause", [
    "tags.t{i} != 'x'", "metrics.m{i} > 1", "run_name ILIKE '%x{i}'", "datasets.name IN ('a', 'b')",
    "params.p{i} IS NULL",
])
def test_every_kind_of_clause_runs_at_the_cap(server: httpx.Client, clause: str) -> None:
    eid, _ = server.ids  # type: ignore[attr-defined]
    r = server.post(f"{API}/runs/search", json={"experiment_ids": [eid], "filter": _and(clause, MAX_CLAUSES)})
    assert r.status_code == 200, r.text[:300]


@pytest.mark.parametrize("method,path", [
    ("POST", f"{API}/experiments/search"), ("GET", f"{API}/registered-models/search"),
    ("GET", f"{API}/model-versions/search"),
])
def test_other_searches_run_at_the_cap(server: httpx.Client, method: str, path: str) -> None:
    text = _and("tags.t{i} LIKE 'x%'", MAX_CLAUSES)
    r = server.post(path, json={"filter": text}) if method == "POST" else server.get(path, params={"filter": text})
    assert r.status_code == 200, r.text[:300]

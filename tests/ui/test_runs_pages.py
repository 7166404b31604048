"""The experiments and runs pages in Chromium against a real ``stead server`` (no auth):
every page renders without a console error; filter, sort, paging and the column chooser work
from the page and live in the URL; MLflow's printed links open the right page; a run named
``<script>`` is text; a POST without the CSRF token is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

API = "/api/2.0/mlflow"
XSS = "<script>alert(1)</script>"
RUNS = 30
WIDE_KEYS = 1500


@dataclass
class Seeded:
    url: str
    experiment_id: str
    run_ids: list[str]  # run i has metrics.acc = i / 100, params.lr = str(i)
    xss_run: str
    wide_run: str


def _run(client: httpx.Client, eid: str, name: str, metrics: dict[str, float], params: dict[str, str],
         start: int) -> str:
    r = client.post(f"{API}/runs/create", json={"experiment_id": eid, "run_name": name, "start_time": start})
    rid = r.json()["run"]["info"]["run_id"]
    items = [{"key": k, "value": v, "timestamp": 1, "step": 0} for k, v in metrics.items()]
    for i in range(0, max(len(items), 1), 1000):
        body = {"run_id": rid, "metrics": items[i:i + 1000]}
        if i == 0:
            body["params"] = [{"key": k, "value": v} for k, v in params.items()]
        assert client.post(f"{API}/runs/log-batch", json=body).status_code == 200
    return rid


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    from server_process import stead_server

    with stead_server(tmp_path_factory.mktemp("ui") / "server") as url, httpx.Client(base_url=url) as c:
        eid = c.post(f"{API}/experiments/create", json={"name": "churn"}).json()["experiment_id"]
        ids = [_run(c, eid, f"run-{i:02d}", {"acc": i / 100, "loss": 1 - i / 100}, {"lr": str(i), "model": "cnn"},
                    1_700_000_000_000 + i) for i in range(RUNS)]
        xss = _run(c, eid, XSS, {"acc": -1.0}, {"note": "<img src=x onerror=alert(2)>"}, 1_600_000_000_000)
        wide = _run(c, eid, "wide", {f"m_{k:04d}": float(k) for k in range(WIDE_KEYS)}, {}, 1_600_000_000_001)
        c.put(f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{ids[0]}/artifacts/model/MLmodel", content=b"flavors: {}")
        c.put(f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{ids[0]}/artifacts/notes.txt", content=b"hello")
        yield Seeded(url, eid, ids, xss, wide)


def _shown_names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#runs tbody a.run-link").all_inner_texts()


def _query(page) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return parse_qs(urlsplit(page.url).query)


def test_every_page_renders_without_console_errors(watched, seeded: Seeded) -> None:
    page = watched.page
    rid = seeded.run_ids[0]
    for path, heading in [("/experiments", "Experiments"), (f"/experiments/{seeded.experiment_id}", "churn"),
                          (f"/experiments/{seeded.experiment_id}/runs/{rid}", "run-00")]:
        response = page.goto(seeded.url + path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert page.locator("h1").inner_text() == heading
    assert page.locator("#params").inner_text().count("lr") == 1
    assert "model/" in page.locator("#artifacts").inner_text() and "notes.txt" in page.locator("#artifacts").inner_text()
    page.click("text=model/")
    assert "MLmodel" in page.locator("#artifacts").inner_text()
    page.goto(seeded.url + "/")
    page.wait_for_url(re.compile(r"/experiments$"))
    watched.clean()


def test_filter_sort_and_paging_from_the_page(watched, seeded: Seeded) -> None:
    page = watched.page
    page.goto(f"{seeded.url}/experiments/{seeded.experiment_id}")
    assert len(_shown_names(page)) == RUNS + 2
    page.fill("#filter", "metrics.acc >= 0.2 and params.model = 'cnn'")
    page.press("#filter", "Enter")
    page.wait_for_url(re.compile(r"filter="))
    assert sorted(_shown_names(page)) == [f"run-{i:02d}" for i in range(20, RUNS)]
    assert _query(page)["filter"] == ["metrics.acc >= 0.2 and params.model = 'cnn'"]

    page.click("#runs thead th[data-column='metrics.acc'] a")  # descending first
    page.wait_for_url(re.compile(r"order=metrics.acc"))
    assert _shown_names(page)[0] == "run-29"
    page.click("#runs thead th[data-column='metrics.acc'] a")
    page.wait_for_url(re.compile(r"order=metrics.acc\+ASC"))
    assert _shown_names(page)[0] == "run-20"

    page.fill("#filter", "metrics.acc >")  # a bad filter: its message, no table rows, no crash
    page.press("#filter", "Enter")
    page.wait_for_selector("#filter-error")
    assert "metrics.acc >" in page.locator("#filter-error").inner_text()

    page.goto(f"{seeded.url}/experiments/{seeded.experiment_id}?order=metrics.acc+DESC&size=25&c=metrics.acc")
    assert len(_shown_names(page)) == 25 and _shown_names(page)[0] == "run-29"
    page.click("#next")
    page.wait_for_url(re.compile(r"page=2"))
    assert _shown_names(page) == ["run-04", "run-03", "run-02", "run-01", "run-00", XSS, "wide"]  # no acc: last
    assert page.locator("#page-number").inner_text() == "Page 2"
    shared = page.url  # the URL holds the state: opening it again shows the same page
    page.goto(shared)
    assert page.locator("#page-number").inner_text() == "Page 2" and _shown_names(page)[0] == "run-04"
    page.click("#previous")
    page.wait_for_url(lambda u: "page=" not in u)
    assert _shown_names(page)[0] == "run-29"
    # errors from the bad filter's 400 answer are the only console output
    assert all("400" in e for e in watched.errors), watched.errors
    assert watched.dialogs == []


def test_column_chooser_searches_1500_metric_keys(watched, seeded: Seeded) -> None:
    page = watched.page
    page.goto(f"{seeded.url}/experiments/{seeded.experiment_id}?c=params.lr")
    assert page.locator("#runs thead th[data-column]").count() == 1
    page.fill("#column-search", "m_149")
    suggestion = page.locator("#column-suggestions button[data-column='metrics.m_1499']")
    suggestion.wait_for()
    assert page.locator("#column-suggestions button").count() == 10  # m_1490 ... m_1499, not 1,500 boxes
    suggestion.click()
    page.wait_for_url(re.compile(r"c=metrics.m_1499"))
    assert _query(page)["c"] == ["params.lr", "metrics.m_1499"]
    cell = page.locator(f"#runs tr[data-run-id='{seeded.wide_run}'] td").nth(4)
    assert cell.inner_text() == "1499"
    page.click("#chosen-columns a[aria-label='Remove column params.lr']")
    page.wait_for_url(lambda u: "params.lr" not in u)
    assert [h.get_attribute("data-column") for h in page.locator("#runs thead th[data-column]").all()] == \
        ["metrics.m_1499"]
    keys = httpx.get(f"{seeded.url}/experiments/{seeded.experiment_id}/keys", params={"q": "m_"}).json()
    assert len(keys["metrics"]) == 50  # a bounded answer however many keys match
    watched.clean()


def test_mlflow_printed_links_open_the_run_and_the_experiment(watched, seeded: Seeded) -> None:
    page = watched.page
    rid = seeded.run_ids[3]
    page.goto(f"{seeded.url}/#/experiments/{seeded.experiment_id}/runs/{rid}")
    page.wait_for_url(f"{seeded.url}/experiments/{seeded.experiment_id}/runs/{rid}")
    assert page.locator("#run-id").inner_text() == rid and page.locator("h1").inner_text() == "run-03"
    page.goto(f"{seeded.url}/#/experiments/{seeded.experiment_id}")
    page.wait_for_url(f"{seeded.url}/experiments/{seeded.experiment_id}")
    assert page.locator("h1").inner_text() == "churn"
    watched.clean()


def test_a_run_named_script_is_text(watched, seeded: Seeded) -> None:
    page = watched.page
    page.goto(f"{seeded.url}/experiments/{seeded.experiment_id}?filter=params.note+LIKE+'%25img%25'&c=params.note")
    assert _shown_names(page) == [XSS]
    assert page.locator("#runs tbody td").nth(3).inner_text() == "<img src=x onerror=alert(2)>"
    page.click("a.run-link")
    page.wait_for_url(re.compile(seeded.xss_run))
    assert page.locator("h1").inner_text() == XSS
    assert page.title() == f"{XSS} · stead"
    assert page.locator("script:not([src])").count() == 0  # nothing inline, and none of the run's
    data = httpx.get(f"{seeded.url}/experiments/{seeded.experiment_id}/runs/{seeded.xss_run}?format=json").json()
    assert data["run"]["run_name"] == XSS  # the JSON behind the page carries the value itself
    watched.clean()


def test_a_post_without_the_csrf_token_is_refused(watched, seeded: Seeded) -> None:
    page = watched.page
    rid = seeded.run_ids[5]
    run_url = f"{seeded.url}/experiments/{seeded.experiment_id}/runs/{rid}"
    page.goto(run_url)
    refused = page.request.post(f"{run_url}/delete", form={"x": "1"}, max_redirects=0)
    assert refused.status == 403 and "CSRF" in refused.text()
    wrong = page.request.post(f"{run_url}/delete", form={"csrf_token": "not-the-cookie's"}, max_redirects=0)
    assert wrong.status == 403
    assert httpx.get(f"{seeded.url}{API}/runs/get", params={"run_id": rid}).json()["run"]["info"][
        "lifecycle_stage"] == "active"
    page.click("#run-delete")  # the page's own form carries the token
    page.wait_for_selector("#run-restore")
    assert page.locator("#run-stage").inner_text() == "deleted"
    page.click("#run-restore")
    page.wait_for_selector("#run-delete")
    assert page.locator("#run-stage").inner_text() == "active"
    watched.clean()


def test_the_run_page_charts_a_metric(watched, seeded: Seeded) -> None:
    from stead.ui.assets import plotly_file

    if plotly_file() is None:
        pytest.skip("the plotly package is missing: pip install -e '.[ui]' (charts use its bundled Plotly.js)")
    page = watched.page
    rid = seeded.run_ids[7]
    with httpx.Client(base_url=seeded.url) as c:
        points = [{"key": "curve", "value": float(step * step), "timestamp": 1, "step": step} for step in range(2500)]
        for i in range(0, len(points), 1000):
            assert c.post(f"{API}/runs/log-batch", json={"run_id": rid, "metrics": points[i:i + 1000]}).status_code == 200
    response = page.goto(f"{seeded.url}/experiments/{seeded.experiment_id}/runs/{rid}?metric=curve")
    assert response is not None and "script-src 'self';" in response.headers["content-security-policy"]
    page.wait_for_selector("#metric-chart[data-drawn='curve']")
    assert page.locator("#metric-chart .scatterlayer .trace").count() == 1
    page.select_option("#metric-key", "loss")
    page.wait_for_selector("#metric-chart[data-drawn='loss']")
    assert _query(page)["metric"] == ["loss"]  # the chosen metric is in the URL
    history = httpx.get(f"{seeded.url}/experiments/{seeded.experiment_id}/runs/{rid}/metric",
                        params={"key": "curve"}).json()
    assert len(history["steps"]) == 2000 and history["steps"][0] == 0 and history["steps"][-1] == 2499  # sampled
    watched.clean()


def test_static_files_are_cached_by_content(seeded: Seeded, tmp_path: Path) -> None:
    html = httpx.get(f"{seeded.url}/experiments", headers={"accept": "text/html"}).text
    src = re.search(r'src="(/static/[0-9a-f]+/ui\.js)"', html)
    assert src is not None
    r = httpx.get(seeded.url + src.group(1))
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert r.headers["content-type"].startswith("text/javascript")
    stale = httpx.get(f"{seeded.url}/static/0000/ui.js")
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    assert httpx.get(f"{seeded.url}/static/0000/../app.py").status_code == 404

"""The model server refuses a rebound Host name and the bodies a cross-site form can send to
its inference routes (415 before the body is read): a real `stead serve` process."""

from __future__ import annotations

import httpx

from serving_helpers import COLUMNS, Home, rows


def test_form_and_plain_text_bodies_are_refused_on_inference_routes(sqlite_home: Home, serve) -> None:  # type: ignore[no-untyped-def]
    body = {"dataframe_split": {"columns": COLUMNS, "data": rows(1).tolist()}}
    v2 = {"inputs": [{"name": c, "shape": [1], "datatype": "FP64", "data": [0.5]} for c in COLUMNS]}
    import json

    with serve(sqlite_home, "models:/churn@production") as url:
        for kind in ("text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
                     "multipart/form-data; boundary=x"):
            r = httpx.post(f"{url}/invocations", content=json.dumps(body), headers={"content-type": kind})
            assert r.status_code == 415, (kind, r.text)
            assert r.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE" and "application/json" in r.json()["message"]
            for path in ("/v2/models/churn/infer", "/v2/models/churn/versions/1/infer"):
                r = httpx.post(f"{url}{path}", content=json.dumps(v2), headers={"content-type": kind})
                assert r.status_code == 415 and "browser form" in r.json()["error"], (path, kind, r.text)
        assert httpx.post(f"{url}/invocations", json=body).status_code == 200
        assert httpx.post(f"{url}/v2/models/churn/infer", json=v2).status_code == 200

        r = httpx.get(f"{url}/v2/health/live", headers={"Host": "evil.example"})
        assert r.status_code == 400 and "evil.example" in r.json()["message"]
        r = httpx.post(f"{url}/invocations", json=body, headers={"Host": "evil.example:8080"})
        assert r.status_code == 400
        assert httpx.get(f"{url}/v2/health/live", headers={"Host": "localhost"}).status_code == 200


def test_allowed_hosts_with_workers(sqlite_home: Home, serve) -> None:  # type: ignore[no-untyped-def]
    with serve(sqlite_home, "models:/churn@production", "--workers", "2",
               "--allowed-hosts", "models.example.com,127.0.0.1") as url:
        for _ in range(6):
            assert httpx.get(f"{url}/v2/health/live", headers={"Host": "models.example.com"}).status_code == 200
            assert httpx.get(f"{url}/v2/health/live", headers={"Host": "localhost"}).status_code == 400
            r = httpx.post(f"{url}/invocations", content=b"{}", headers={"content-type": "text/plain"})
            assert r.status_code == 415

"""Security, each attack class its own test, against a real ``stead server`` process.

Artifact paths (``..``, absolute, encoded and double-encoded traversal, backslashes,
symlinks) never reach outside the artifact root; experiment locations on the server's own
files are refused; bodies are bounded; malformed or mis-typed requests get MLflow-shaped
JSON errors.
"""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

ART = "/api/2.0/mlflow-artifacts/artifacts"
API = "/api/2.0/mlflow"


def _raw(url: str, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, bytes]:
    """Send ``path`` byte for byte (httpx would normalise '..' away)."""
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One server for the module; each test leaves the secret file as it found it."""
    from server_process import stead_server

    tmp_path = tmp_path_factory.mktemp("security")
    home = tmp_path / "server"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    with stead_server(home) as url:
        yield url, home / "artifacts", secret


TRAVERSALS = [
    "../secret.txt",
    "../../secret.txt",
    "0/../../secret.txt",
    "%2e%2e/secret.txt",
    "%2e%2e%2fsecret.txt",
    "0/%2e%2e%2f%2e%2e%2fsecret.txt",
    "%252e%252e%252fsecret.txt",
    "0/%252e%252e/%252e%252e/secret.txt",
    "..%5csecret.txt",
    "0\\..\\..\\secret.txt",
    "%5c..%5c..%5csecret.txt",
]


def _assert_refused(status: int, body: bytes) -> None:
    assert status in (400, 404), (status, body)
    assert json.loads(body)["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "ENDPOINT_NOT_FOUND")
    assert b"TOP SECRET" not in body


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_download_refused(server, path):
    url, _root, _secret = server
    _assert_refused(*_raw(url, "GET", f"{ART}/{path}"))


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_upload_refused(server, path):
    url, root, secret = server
    _assert_refused(*_raw(url, "PUT", f"{ART}/{path}", b"overwritten"))
    assert secret.read_text() == "TOP SECRET"
    assert not (root.parent / "secret.txt").exists()


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_delete_refused(server, path):
    url, _root, secret = server
    _assert_refused(*_raw(url, "DELETE", f"{ART}/{path}"))
    assert secret.exists()


@pytest.mark.parametrize("path", ["..", "../..", "%2e%2e", "%252e%252e", "/etc", "//etc", "..%5c..", "0/../.."])
def test_traversal_list_refused(server, path):
    url, _root, _secret = server
    r = httpx.get(url + ART, params={"path": path})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("path", ["/etc/passwd", "//etc/passwd", "file:///etc/passwd", "C:/windows/win.ini"])
def test_absolute_paths_refused(server, path):
    url, _root, _secret = server
    _assert_refused(*_raw(url, "GET", f"{ART}/{path}"))


def test_symlink_out_of_root_never_followed(server):
    url, root, secret = server
    (root / "0").mkdir(parents=True, exist_ok=True)
    os.symlink(secret.parent, root / "0" / "escape")
    os.symlink(secret, root / "0" / "leak.txt")
    os.symlink("/etc", root / "0" / "etc")
    for path in ("0/escape/secret.txt", "0/leak.txt", "0/etc/passwd"):
        _assert_refused(*_raw(url, "GET", f"{ART}/{path}"))
        _assert_refused(*_raw(url, "PUT", f"{ART}/{path}", b"overwritten"))
    assert secret.read_text() == "TOP SECRET"
    listed = httpx.get(url + ART, params={"path": "0"}).json().get("files", [])
    assert all(f["path"] not in ("escape", "leak.txt") for f in listed)
    r = httpx.get(url + ART, params={"path": "0/escape"})
    assert r.status_code == 400


def test_artifact_round_trip_inside_root(server):
    url, root, _secret = server
    assert httpx.put(f"{url}{ART}/0/r1/artifacts/a b.txt", content=b"ok").status_code == 200
    assert (root / "0" / "r1" / "artifacts" / "a b.txt").read_bytes() == b"ok"
    r = httpx.get(f"{url}{ART}/0/r1/artifacts/a b.txt")
    assert r.content == b"ok" and r.headers["content-disposition"].startswith("attachment")
    assert httpx.delete(f"{url}{ART}/0/r1/artifacts/a b.txt").status_code == 200
    assert not (root / "0" / "r1" / "artifacts" / "a b.txt").exists()


@pytest.mark.parametrize("location", ["/etc", "file:///etc", "file:/etc", "/tmp/../etc", "../../etc", "//host/share",
                                      "mlflow-artifacts:/../../etc", "s3://bucket/../..", "\\\\host\\share"])
def test_experiment_location_on_server_files_refused(server, location):
    url, _root, _secret = server
    name = f"x-{abs(hash(location))}"
    r = httpx.post(f"{url}{API}/experiments/create", json={"name": name, "artifact_location": location})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = httpx.get(f"{url}{API}/experiments/get-by-name", params={"experiment_name": name})
    assert r.status_code == 404


def test_object_store_location_allowed(server):
    url, _root, _secret = server
    r = httpx.post(f"{url}{API}/experiments/create", json={"name": "s3exp", "artifact_location": "s3://bucket/prefix"})
    assert r.status_code == 200


def test_oversize_body_413(server):
    url, _root, _secret = server
    body = b'{"name": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    status, data = _raw(url, "POST", f"{API}/experiments/create", body, {"Content-Type": "application/json"})
    assert status == 413 and json.loads(data)["error_code"] == "REQUEST_TOO_LARGE"


def test_oversize_chunked_body_413(server):
    url, _root, _secret = server

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(20):
            yield b" " * (1024 * 1024)

    r = httpx.post(f"{url}{API}/experiments/create", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error_code"] == "REQUEST_TOO_LARGE"


@pytest.mark.parametrize("body", [b"{", b"{'name': 1}", b"[1, 2]", b"\xff\xfe", b'{"name": "a"} trailing'])
def test_malformed_json_400(server, body):
    url, _root, _secret = server
    status, data = _raw(url, "POST", f"{API}/experiments/create", body, {"Content-Type": "application/json"})
    assert status == 400
    assert json.loads(data)["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None])
def test_mutating_call_needs_json_content_type(server, ctype):
    """CVE-2023-43472: a cross-site text/plain POST must not change anything."""
    url, _root, _secret = server
    headers = {"Content-Type": ctype} if ctype else {}
    status, data = _raw(url, "POST", f"{API}/experiments/create", b'{"name": "csrf"}', headers)
    assert status == 400 and json.loads(data)["error_code"] == "INVALID_PARAMETER_VALUE"
    assert httpx.get(f"{url}{API}/experiments/get-by-name", params={"experiment_name": "csrf"}).status_code == 404


def test_error_bodies_are_json_and_escaped(server):
    url, _root, _secret = server
    status, data = _raw(url, "GET", "/api/2.0/mlflow/<script>alert(1)</script>",
                        headers={"Content-Type": "text/html"})
    assert status == 404
    body = json.loads(data)
    assert body["error_code"] == "ENDPOINT_NOT_FOUND"
    r = httpx.get(f"{url}{API}/experiments/get", params={"experiment_id": "<img src=x>"})
    assert r.headers["content-type"] == "application/json" and r.status_code == 400


def test_html_artifacts_are_not_rendered(server):
    url, _root, _secret = server
    httpx.put(f"{url}{ART}/0/r/artifacts/page.html", content=b"<script>alert(1)</script>")
    r = httpx.get(f"{url}{ART}/0/r/artifacts/page.html")
    assert not r.headers["content-type"].startswith("text/html")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("attachment")

"""The Host-header allow-list (DNS rebinding): real `stead server` processes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server_process import stead_server
from stead.hosts import HostGuard, allowed_hosts_for


def _health(url: str, host: str) -> httpx.Response:
    return httpx.get(f"{url}/health", headers={"Host": host}, timeout=30)


def test_a_loopback_server_answers_only_loopback_names(tmp_path: Path) -> None:
    with stead_server(tmp_path / "s") as url:
        port = url.rsplit(":", 1)[1]
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST"):
            assert _health(url, host).status_code == 200, host
        r = _health(url, f"evil.example:{port}")  # what a rebound name sends
        assert r.status_code == 400
        body = r.json()
        assert body["error_code"] == "BAD_REQUEST"
        assert "evil.example" in body["message"] and "--allowed-hosts" in body["message"]
        api = httpx.post(f"{url}/api/2.0/mlflow/experiments/create", json={"name": "x"},
                         headers={"Host": "evil.example"})
        assert api.status_code == 400  # every route, not only health


@pytest.mark.parametrize("workers", ["1", "2"])
def test_allowed_hosts_names_the_hosts(tmp_path: Path, workers: str) -> None:
    with stead_server(tmp_path / "s", "--workers", workers,
                      "--allowed-hosts", "mlflow.example.com,*.corp.example,127.0.0.1") as url:
        for _ in range(6):  # fresh connections: each worker is asked
            assert _health(url, "mlflow.example.com").status_code == 200
            assert _health(url, "team.corp.example:443").status_code == 200
            assert _health(url, "localhost").status_code == 400
            assert _health(url, "corp.example.evil").status_code == 400


def test_defaults_and_parsing() -> None:
    assert allowed_hosts_for("127.0.0.1", None) == "localhost,127.0.0.1,[::1]"
    assert allowed_hosts_for("0.0.0.0", None) == "*"
    assert allowed_hosts_for("0.0.0.0", " A.example , b.example") == "a.example,b.example"
    guard = HostGuard(None, "a.example,*.b.example,[::1]")
    assert guard.allows(b"a.example:8080") and guard.allows(b"x.b.example") and guard.allows(b"[::1]:5000")
    assert not guard.allows(b"b.example.evil") and not guard.allows(b"") and not guard.allows(b"xa.example")

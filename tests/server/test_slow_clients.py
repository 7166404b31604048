"""Slow clients cannot starve the server (a real ``stead server`` process on loopback).

Dozens of uploads that trickle their body used to hold every worker thread, so that every
other upload and download timed out. Bodies are now received on the event loop, transfers
have thread pools of their own, and headers or bodies that stop arriving get a 408.

Synchronisation is on events the server emits: it answers ``Expect: 100-continue`` when the
upload handler starts reading the body, and a 408 when it gives up on one.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ART = "/api/2.0/mlflow-artifacts/artifacts"
API = "/api/2.0/mlflow"
SLOW_UPLOADS = 48  # more than anyio's 40 default threads and than either transfer pool


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _read_head(sock: socket.socket) -> bytes:
    """Bytes up to the end of a response head (or what came before the server closed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    return data


def _start_slow_put(url: str, path: str, length: int) -> socket.socket:
    """A PUT whose handler has started reading the body (the server said 100 Continue) and
    which has sent one byte of ``length``; the rest is never sent."""
    sock = socket.create_connection(_address(url), timeout=15)
    sock.sendall(
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {length}\r\nExpect: 100-continue\r\n\r\n".encode()
    )
    try:
        head = _read_head(sock)
    except TimeoutError:
        sock.close()
        pytest.fail("a slow upload never started: the server has no thread left to read its body")
    assert head.startswith(b"HTTP/1.1 100"), head
    sock.sendall(b"x")
    return sock


def _still_open(sock: socket.socket) -> bool:
    """No answer and no close from the server yet."""
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


@contextlib.contextmanager
def _server(home: Path, *args: str) -> Iterator[tuple[str, str]]:
    from server_process import stead_server

    with stead_server(home, *args) as url:
        with httpx.Client(base_url=url, timeout=30) as client:
            eid = client.post(f"{API}/experiments/create", json={"name": "e"}).json()["experiment_id"]
            rid = client.post(f"{API}/runs/create", json={"experiment_id": eid}).json()["run"]["info"]["run_id"]
        yield url, f"{eid}/{rid}/artifacts"


def test_slow_uploads_do_not_starve_transfers_or_the_api(tmp_path: Path) -> None:
    with _server(tmp_path / "server") as (url, prefix):
        slow = []
        try:
            for i in range(SLOW_UPLOADS):
                slow.append(_start_slow_put(url, f"{ART}/{prefix}/slow-{i}.bin", 1 << 20))
            payload = os.urandom(5 << 20)  # past the upload window: streamed while it arrives
            with httpx.Client(base_url=url, timeout=10) as client:
                put = client.put(f"{ART}/{prefix}/model.bin", content=payload)
                assert put.status_code == 200, put.text
                got = client.get(f"{ART}/{prefix}/model.bin")
                assert got.status_code == 200 and got.content == payload
                small = client.put(f"{ART}/{prefix}/small.txt", content=b"hello")
                assert small.status_code == 200, small.text
                api = client.post(f"{API}/experiments/search", json={})
                assert api.status_code == 200 and api.json()["experiments"]
            assert all(_still_open(s) for s in slow), "the slow uploads must still be open, not refused"
        finally:
            for sock in slow:
                sock.close()


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """A server that waits 1 s for headers or body bytes that stop arriving."""
    home = tmp_path_factory.mktemp("strict") / "server"
    with _server(home, "--request-timeout", "1") as (url, prefix):
        yield url, prefix, home / "artifacts"


def _stalled_request(url: str, head: bytes, body: bytes) -> bytes:
    """Send ``head`` and part of a body, then nothing: what the server answers."""
    with socket.create_connection(_address(url), timeout=15) as sock:
        sock.sendall(head + body)
        response = b""
        while True:  # until the server closes or finishes its answer
            piece = sock.recv(65536)
            if not piece:
                break
            response += piece
            if b"\r\n\r\n" in response and b"}" in response.split(b"\r\n\r\n", 1)[1]:
                break
        return response


def _put_head(path: str, length: int) -> bytes:
    return (f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def test_upload_body_that_stops_arriving_gets_408(strict: tuple[str, str, Path]) -> None:
    url, prefix, root = strict
    response = _stalled_request(url, _put_head(f"{ART}/{prefix}/stalled.bin", 1000), b"partial")
    assert response.startswith(b"HTTP/1.1 408"), response[:200]
    assert b'"REQUEST_TIMEOUT"' in response
    assert not list(root.rglob("stalled.bin"))


def test_streamed_upload_that_stalls_gets_408_and_leaves_nothing(strict: tuple[str, str, Path]) -> None:
    url, prefix, root = strict
    body = os.urandom(6 << 20)  # past the window: the writer thread is already writing
    response = _stalled_request(url, _put_head(f"{ART}/{prefix}/big.bin", len(body) + 1000), body)
    assert response.startswith(b"HTTP/1.1 408"), response[:200]
    assert not list(root.rglob("big.bin"))
    assert not [p for p in root.rglob("*") if p.name.startswith(".stead-tmp-")]  # the partial write is gone


def test_json_body_that_stops_arriving_gets_408(strict: tuple[str, str, Path]) -> None:
    url, _, _ = strict
    head = (f"POST {API}/experiments/create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n").encode()
    response = _stalled_request(url, head, b'{"name": ')
    assert response.startswith(b"HTTP/1.1 408"), response[:200]
    assert b'"REQUEST_TIMEOUT"' in response


def test_headers_that_stop_arriving_get_408(strict: tuple[str, str, Path]) -> None:
    url, _, _ = strict
    response = _stalled_request(url, f"GET {API}/experiments/search HTTP/1.1\r\nHost: 127".encode(), b"")
    assert response.startswith(b"HTTP/1.1 408"), response[:200]
    assert b'"REQUEST_TIMEOUT"' in response


def test_silent_connection_is_closed(strict: tuple[str, str, Path]) -> None:
    url, _, _ = strict
    assert _stalled_request(url, b"", b"").startswith(b"HTTP/1.1 408")
    with httpx.Client(base_url=url, timeout=10) as client:  # and the server still answers others
        assert client.get("/health").status_code == 200

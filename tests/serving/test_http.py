"""One write per response (stead.serving.http): the gathering transport on a real event loop,
and pipelined requests on a real `stead serve` process answered whole and in order."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from serving_helpers import Home, expected, rows
from stead.serving.http import _GatheringTransport


class _Recording:
    """A transport that records what reaches it (a spy; the loop and scheduling are real)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default


def test_writes_in_one_loop_turn_leave_as_one_write() -> None:
    async def scenario() -> _Recording:
        inner = _Recording()
        t = _GatheringTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        t.write(b"{}")
        assert inner.writes == []  # nothing sent inside the turn
        await asyncio.sleep(0)  # the loop turns once
        t.write(b"next")
        await asyncio.sleep(0)
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)  # everything else is the real transport's
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"next"]


def test_close_sends_what_was_written_first() -> None:
    async def scenario() -> _Recording:
        inner = _Recording()
        t = _GatheringTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(b"a")
        t.write(b"b")
        t.close()
        await asyncio.sleep(0)  # the flush scheduled by the first write finds nothing left
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == [b"ab"] and inner.closed


def _read_responses(sock: socket.socket, n: int) -> list[tuple[bytes, bytes]]:
    """``n`` HTTP/1.1 responses (status line, body) read from ``sock``, each by its content-length."""
    buf = b""
    out: list[tuple[bytes, bytes]] = []
    while len(out) < n:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buf[:head_end].split(b"\r\n")
            length = next(int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-length:"))
            if len(buf) >= head_end + 4 + length:
                out.append((head[0], buf[head_end + 4:head_end + 4 + length]))
                buf = buf[head_end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, "server closed the connection early"
        buf += chunk
    return out


def test_pipelined_requests_get_whole_answers_in_order(sqlite_home: Home, serve: Callable[..., Any]) -> None:
    x = rows(3, seed=7)
    with serve(sqlite_home, "models:/churn@production") as url:
        u = urlsplit(url)
        requests = b""
        for row in x:
            body = json.dumps({"inputs": [{"name": "input-0", "shape": [1, x.shape[1]], "datatype": "FP64",
                                           "data": row.tolist()}]}).encode()
            requests += (b"POST /v2/models/churn/infer HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                         b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        requests += b"GET /v2/health/live HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
        with socket.create_connection((u.hostname, u.port), timeout=30) as sock:
            sock.sendall(requests)  # four requests in one segment, before any answer
            answers = _read_responses(sock, 4)
    assert [status for status, _ in answers] == [b"HTTP/1.1 200 OK"] * 4
    assert [json.loads(b)["outputs"][0]["data"][0] for _, b in answers[:3]] == expected(sqlite_home, 1, x)
    assert json.loads(answers[3][1]) == {"live": True}

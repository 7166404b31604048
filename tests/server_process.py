"""Start ``stead server`` (or any server command) as a real process on a free port.

    with stead_server(tmp_path) as url: ...

Waits for ``/health`` with a bounded deadline (polling, no fixed sleep) and stops the
process afterwards. Used by the server tests and by other concepts' tests.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

__all__ = ["free_port", "wait_healthy", "run_server", "stead_server"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 30.0, path: str = "/health") -> float:
    """Poll ``url + path`` until it answers 200; return the seconds it took."""
    start = time.monotonic()
    while True:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode} before becoming healthy:\n{out[-4000:]}")
        try:
            if httpx.get(url + path, timeout=1.0).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        if time.monotonic() - start > deadline_s:
            raise TimeoutError(f"{url}{path} not healthy after {deadline_s} s")
        time.sleep(0.02)


@contextlib.contextmanager
def run_server(argv: Sequence[str], port: int, env: Mapping[str, str] | None = None,
               deadline_s: float = 30.0, health_path: str = "/health",
               log_path: Path | None = None, cwd: Path | None = None,
               inherit_env: bool = True) -> Iterator[str]:
    """Run ``argv`` (which must listen on 127.0.0.1:``port``) until the block ends; its
    environment is ours updated by ``env`` (only ``env`` when not ``inherit_env``)."""
    url = f"http://127.0.0.1:{port}"
    full_env = {**os.environ, **(env or {})} if inherit_env else dict(env or {})
    log = open(log_path, "wb") if log_path else None
    proc = subprocess.Popen(list(argv), env=full_env, stdout=log or subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd)
    try:
        wait_healthy(url, proc, deadline_s, health_path)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            log.close()


@contextlib.contextmanager
def stead_server(home: Path, *args: str, port: int | None = None, env: Mapping[str, str] | None = None,
                 store_url: str | None = None) -> Iterator[str]:
    """``stead server`` with its store and artifacts under ``home``; yields the base URL."""
    port = port or free_port()
    home.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "server", "--port", str(port),
            "--store-url", store_url or f"sqlite:///{home / 'stead.db'}", "--artifacts-url", str(home / "artifacts"),
            *args]
    base_env = {"STEAD_HOME": str(home), "STEAD_TRACKING_URI": ""}
    with run_server(argv, port, {**base_env, **(env or {})}, log_path=home / "server.log") as url:
        yield url

"""``stead server`` on the command line: the typer-free fast path and what it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from stead.cli.server import fast_serve

# Runs the plain command line through stead.cli.fast with uvicorn.run spied on (it records
# what it was given instead of serving), then reports which heavy CLI modules got imported.
_SPY = """
import json, sys
import uvicorn
seen = {}
def spy(app, **kw):
    seen.update(kw, app=type(app).__name__)
uvicorn.run = spy
from stead.cli.fast import dispatch
code = dispatch(sys.argv[1:])
print(json.dumps({"code": code, "run": seen, "typer": "typer" in sys.modules, "pydantic": "pydantic" in sys.modules},
                 default=lambda o: getattr(o, "__name__", str(o))))
"""


@pytest.mark.parametrize("argv", [
    ["--help"], ["--bogus"], ["--port"], ["--port", "http"], ["--workers", "0"], ["--port=-1"],
    ["--request-timeout", "0"], ["--request-timeout", "nan"],
])
def test_lines_the_fast_path_does_not_know_go_to_typer(argv: list[str]) -> None:
    assert fast_serve(argv) is None


def test_plain_command_line_starts_without_typer(tmp_path: Path) -> None:
    argv = ["server", "--port", "5123", "--auth", f"--store-url=sqlite:///{tmp_path / 's.db'}",
            "--artifacts-url", str(tmp_path / "artifacts"), "--host", "127.0.0.1"]
    done = subprocess.run([sys.executable, "-c", _SPY, *argv], capture_output=True, text=True, timeout=120,
                          env={"STEAD_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["code"] == 0
    assert out["run"]["host"] == "127.0.0.1" and out["run"]["port"] == 5123
    assert out["run"]["app"] == "HostGuard"  # the Router behind the loopback Host allow-list
    assert out["run"]["http"] == "HeaderDeadlineProtocol"  # httptools with a deadline on request headers
    assert out["typer"] is False and out["pydantic"] is False
    assert "stead server listening on http://127.0.0.1:5123" in done.stdout
    assert "auth on" in done.stdout
    assert "no admin yet" in done.stderr  # --auth without an admin says how to create one


def test_help_still_comes_from_typer() -> None:
    done = subprocess.run([sys.executable, "-c", "from stead.cli.main import run; run()", "server", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "--artifacts-url" in done.stdout and "--workers" in done.stdout


def test_binding_another_address_without_auth_warns(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from server_process import free_port, run_server

    port = free_port()
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "server", "--host", "0.0.0.0",
            "--port", str(port), "--store-url", f"sqlite:///{tmp_path / 's.db'}",
            "--artifacts-url", str(tmp_path / "artifacts")]
    log = tmp_path / "server.log"
    with run_server(argv, port, {"STEAD_HOME": str(tmp_path / "home")}, log_path=log) as url:
        assert httpx.get(url + "/health").json() == {"status": "OK"}
    text = log.read_text()
    assert "listening on http://0.0.0.0:" in text
    assert "warning: binding 0.0.0.0 without --auth" in text

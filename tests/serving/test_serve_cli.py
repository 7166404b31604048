"""``stead serve`` on the command line: the typer-free fast path and where typer takes over."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stead.cli.serve import fast_serve

# Runs a command line through stead.cli.fast with serve_model spied on (it records what it
# was given instead of loading a model), then reports whether typer or pydantic got imported.
_SPY = """
import json, sys
import stead.cli.serve as serve
seen = {}
serve.serve_model = lambda model=None, **kw: seen.update(kw, model=model)
from stead.cli.fast import dispatch
code = dispatch(sys.argv[1:])
print(json.dumps({"code": code, "seen": seen, "typer": "typer" in sys.modules, "pydantic": "pydantic" in sys.modules}))
"""


@pytest.mark.parametrize("argv", [
    ["--help"], ["--bogus"], ["--port"], ["--port", "http"], ["--workers", "0"], ["--log-sample", "2"],
    ["--timeout=0"], ["models:/a@b", "models:/c@d"],
])
def test_lines_the_fast_path_does_not_know_go_to_typer(argv: list[str]) -> None:
    assert fast_serve(argv) is None


def test_plain_command_line_runs_without_typer() -> None:
    argv = ["serve", "models:/churn@production", "--port", "8081", "--workers=2", "--import-sklearn",
            "--log-sample", "0.25", "--device", "cpu", "--max-latency-ms=1.5"]
    done = subprocess.run([sys.executable, "-c", _SPY, *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["code"] == 0 and out["typer"] is False and out["pydantic"] is False
    assert out["seen"] == {"model": "models:/churn@production", "port": 8081, "workers": 2, "native_sklearn": False,
                           "log_sample": 0.25, "device": "cpu", "max_latency_ms": 1.5}


def _stead(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from stead.cli.main import run; run()", *argv],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


def test_out_of_range_value_is_explained_by_typer() -> None:
    done = _stead("serve", "models:/churn@production", "--log-sample", "2")
    assert done.returncode == 2
    assert "--log-sample" in done.stderr and "Traceback" not in done.stderr


def test_help_still_comes_from_typer() -> None:
    done = _stead("serve", "--help")
    assert done.returncode == 0
    assert "--max-batch-size" in done.stdout and "Example: stead serve models:/churn@production" in done.stdout

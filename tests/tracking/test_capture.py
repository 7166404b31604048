"""``start_run(capture_output=True)``: what a training script prints is kept with its run,
on the embedded store and through a stead server, and still reaches the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server_process import stead_server  # noqa: E402

SCRIPT = """
import logging
import sys

import stead

with stead.start_run(run_name="captured", capture_output=True) as run:
    print("hello from stdout")
    print("hello from stderr", file=sys.stderr)
    sys.stdout.write("no newline, then one")
    print()
    logging.getLogger("train").warning("a warning")
print("after the run")
print("RUN " + run.run_id)
with stead.start_run(run_name="failing", capture_output=True) as failing:
    print("RUN " + failing.run_id)
    print("before the crash")
    raise ValueError("bad batch")
"""


@pytest.fixture(params=["embedded", "server"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    if request.param == "embedded":
        yield {**base, "STEAD_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
        return
    with stead_server(tmp_path / "server") as url:
        yield {**base, "STEAD_HOME": str(tmp_path / "client"), "STEAD_TRACKING_URI": url, "COLUMNS": "200"}


def _stead(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([sys.executable, "-c", "from stead.cli.main import run; run()", *args],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_captured_output_is_an_artifact_of_the_run(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)
    assert proc.returncode == 1 and "ValueError: bad batch" in proc.stderr
    # tee'd: the person running the script saw everything as usual
    assert "hello from stdout\nno newline, then one\n" in proc.stdout and "after the run" in proc.stdout
    assert "hello from stderr\na warning\n" in proc.stderr
    captured, failing = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("RUN ")]

    assert _stead(env, "runs", "output", captured) == (
        "hello from stdout\nhello from stderr\nno newline, then one\na warning\n")
    shown = _stead(env, "runs", "show", captured)
    assert f"all of it: stead runs output {captured}" in shown and shown.rstrip().endswith("a warning")
    assert json.loads(_stead(env, "runs", "show", captured, "--json"))["tags"]["stead.output"] == "logs/output.txt"

    crashed = _stead(env, "runs", "output", failing)
    assert crashed.startswith(f"RUN {failing}\nbefore the crash\nTraceback (most recent call last):")
    assert crashed.rstrip().endswith("ValueError: bad batch")
    assert json.loads(_stead(env, "runs", "show", failing, "--json"))["info"]["status"] == "FAILED"


def test_capture_is_off_by_default_and_restores_the_streams(fluent, client) -> None:
    before = sys.stdout, sys.stderr
    with fluent.start_run() as plain:
        print("not kept")
    assert "stead.output" not in client.get_run(plain.run_id).data.tags
    assert client.list_artifacts(plain.run_id) == []
    with fluent.start_run(capture_output=True) as kept:
        assert sys.stdout is not before[0]
        print("kept")
    assert (sys.stdout, sys.stderr) == before
    assert client.run_artifacts(kept.run_id).get_bytes("logs/output.txt") == b"kept\n"

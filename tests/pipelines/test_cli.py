"""``stead pipeline`` from the shell: run, cache hits, show, logs, graph, resume, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

PIPE = """
import os
import stead.pipelines as sp

@sp.step
def load(n: int) -> list:
    print("loading", n)
    return list(range(n))

@sp.step
def train(data: list, lr: float) -> float:
    if os.environ.get("FAIL_TRAIN"):
        raise RuntimeError("diverged")
    return lr * len(data)

@sp.step
def report(score: float) -> str:
    return f"score={score}"

@sp.pipeline
def train_pipeline(n: int = 5, lr: float = 0.01):
    report(train(load(n), lr))

@sp.step(cache=False)
def wait_forever(marker: str) -> int:
    open(marker, "w").close()
    import threading
    threading.Event().wait(120)
    return 1

@sp.pipeline
def hangs(marker: str):
    wait_forever(marker)
"""


@pytest.fixture
def cli(tmp_path: Path, store_url: str):  # type: ignore[no-untyped-def]
    pipe = tmp_path / "pipe.py"
    pipe.write_text(textwrap.dedent(PIPE))
    env = {**os.environ, "STEAD_HOME": str(tmp_path / "home"), "STEAD_STORE_URL": store_url,
           "STEAD_ARTIFACTS_URL": str(tmp_path / "artifacts"), "COLUMNS": "200"}

    def stead(*args: str, extra_env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [sys.executable, "-c", "from stead.cli.main import run; run()", *args],
            capture_output=True, text=True, env={**env, **(extra_env or {})}, cwd=tmp_path, timeout=300,
        )
        if check:
            assert out.returncode == 0, out.stdout + out.stderr
        return out

    stead.pipe = str(pipe)  # type: ignore[attr-defined]
    stead.env = env  # type: ignore[attr-defined]
    return stead


def test_run_show_logs_graph_and_cache_hits(cli):
    ref = f"{cli.pipe}:train_pipeline"
    first = json.loads(cli("pipeline", "run", ref, "-p", "lr=0.1", "--json").stdout)
    assert first["status"] == "SUCCEEDED" and first["params"] == {"n": 5, "lr": 0.1}
    second = cli("pipeline", "run", ref, "-p", "lr=0.1")
    assert "3 cached; 3 cache hits" in second.stdout
    third = json.loads(cli("pipeline", "run", ref, "-p", "lr=0.2", "--json").stdout)
    assert [s["status"] for s in third["steps"]] == ["CACHED", "SUCCEEDED", "SUCCEEDED"]

    runs = json.loads(cli("pipeline", "runs", "--json").stdout)
    assert [r["run_id"] for r in runs] == [third["run_id"], json.loads(json.dumps(runs[1]))["run_id"], first["run_id"]]
    shown = cli("pipeline", "show", third["run_id"][:10]).stdout
    assert "CACHED" in shown and "hit" in shown
    assert "loading 5" in cli("pipeline", "logs", first["run_id"], "load").stdout
    graph = cli("pipeline", "graph", first["run_id"]).stdout
    assert "load" in graph and "train" in graph and "report" in graph and "SUCCEEDED" in graph
    assert "train" in cli("pipeline", "graph", ref).stdout


def test_failure_exit_code_and_resume(cli):
    ref = f"{cli.pipe}:train_pipeline"
    failed = cli("pipeline", "run", ref, "--json", extra_env={"FAIL_TRAIN": "1"}, check=False)
    assert failed.returncode == 1
    record = json.loads(failed.stdout)
    assert record["status"] == "FAILED" and "train (RuntimeError: diverged)" in record["error"]
    assert "not run because of it: report" in record["error"]
    resumed = json.loads(cli("pipeline", "resume", record["run_id"], "--json").stdout)
    assert resumed["status"] == "SUCCEEDED"
    assert [s["status"] for s in resumed["steps"]] == ["CACHED", "SUCCEEDED", "SUCCEEDED"]


def test_bad_input_is_one_line(cli):
    ref = f"{cli.pipe}:train_pipeline"
    out = cli("pipeline", "run", ref, "-p", "learning_rate=1", check=False)
    assert out.returncode == 2 and "has no parameter ['learning_rate']" in out.stderr
    assert "Traceback" not in out.stderr
    out = cli("pipeline", "run", ref, "-x", "spark", check=False)
    assert out.returncode == 2 and "Unknown executor 'spark'" in out.stderr
    out = cli("pipeline", "run", f"{cli.pipe}:hangs", check=False)
    assert out.returncode == 2 and "needs parameter 'marker'" in out.stderr


def test_ctrl_c_cancels_cleanly(cli, tmp_path):
    marker = tmp_path / "started"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from stead.cli.main import run; run()", "pipeline", "run",
         f"{cli.pipe}:hangs", "-p", f"marker={marker}", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env, cwd=tmp_path,
        # Ctrl-C as a terminal delivers it: an ignored SIGINT is inherited across exec, and a
        # test worker may have been left ignoring it by an earlier test.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not marker.exists():  # wait for the step to start (polling a condition)
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    record = json.loads(out)
    assert record["status"] == "CANCELLED" and "stead pipeline resume" in record["error"]
    assert record["steps"][0]["status"] == "CANCELLED"
    shown = json.loads(cli("pipeline", "show", record["run_id"], "--json").stdout)
    assert shown["status"] == "CANCELLED"

"""What a new user does first: the README's demo, the commands it ends with, and every
command block of the README, as written, from the repository root, in a fresh home."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import httpx
import pandas as pd
import pytest

from server_process import free_port, run_server

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = Path(sys.executable).parent  # where the test virtualenv's `stead` lives
# The README's first block sets up the virtualenv (the suite already runs in it); the demo
# itself is run as `dev.py demo` runs it.
SETUP_BLOCK = "python3 dev.py demo"
LONG_RUNNING = re.compile(r"^stead (server|serve)\b")
HEALTH_PATHS = {"server": "/health", "serve": "/v2/health/ready"}


def _user_env() -> dict[str, str]:
    """A shell as a new user has it: stead on the PATH, no stead settings of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    env["PATH"] = f"{SCRIPTS}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    return env


def _run_demo(root: Path) -> str:
    """A copy of the repository's examples and README under ``root``; the quickstart run there
    as `python3 dev.py demo` runs it (from the root, its home ``root/.stead``)."""
    shutil.copytree(REPO / "examples", root / "examples",
                    ignore=shutil.ignore_patterns(".stead", "data", "__pycache__"))
    shutil.copy(REPO / "README.md", root / "README.md")
    done = subprocess.run([sys.executable, "examples/quickstart.py"], cwd=root, env=_user_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _shell(line: str, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", line], cwd=root, env=_user_env(), capture_output=True,
                          text=True, timeout=600)


def _listening(loop: str) -> list[int]:
    """The ports of the loop's processes (``--port N`` in its commands) that still accept connections."""
    import socket

    open_ports = []
    for port in {int(p) for p in re.findall(r"--port (\d+)", loop)}:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                open_ports.append(port)
    return open_ports


def readme_command_blocks(text: str) -> list[list[str]]:
    """The command lines of every ```bash block of the README, in order."""
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [[line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
            for block in blocks]


def test_quickstart_runs_the_whole_lifecycle_and_its_closing_commands_work(tmp_path: Path):
    out = _run_demo(tmp_path)
    for step in ("1. Data", "2. Tracking", "3. Registry", "4. Load", "5. Pipeline", "6. Serving", "7. Monitoring",
                 "8. The loop"):
        assert step in out, out
    assert "validation: all" in out and "checks passed" in out
    assert "models:/churn/1 is now models:/churn@production" in out
    assert "6 of 6 steps cached" in out
    assert "/v2/models/churn/infer -> [" in out
    assert (tmp_path / ".stead" / "stead.db").exists()  # the home of the folder it ran from

    loop = out.split("8. The loop", 1)[1].split("Where to look", 1)[0]
    stages = [  # in this order: drift found -> alert -> pipeline run -> rollout decisions -> final state
        r"monitor churn-drift: alert: \d+ rows; drift \(2 of 4 features\)",
        r'alert SteadDataDrift \(firing\) -> started pipeline run (\w+) with \{"deployment": "churn", '
        r'"dataset": "data:/customers@2"\}',
        r"pipeline run \w+: SUCCEEDED; churn@candidate is churn/3",
        r"rollout: step \(pass, score \d+\): 25% -> 50%",
        r"rollout: promote \(pass, score \d+\): 50% -> 100%: promoted: churn@production: 1 -> 3",
        r"final: the rollout is promoted; churn@production is churn/3",
    ]
    at = 0
    for stage in stages:
        found = re.compile(stage).search(loop, at)
        assert found, f"{stage!r} not after {loop[:at][-200:]!r} in:\n{loop}"
        at = found.end()
    assert "rollout: start: 0% -> 25%: churn@candidate (version 3) gets 25% as canary" in loop
    assert re.findall(r"\[\s*([\d.]+)s\]", loop), loop  # each stage says when it happened
    assert not _listening(loop), "the loop's stead server and stead serve are stopped"

    closing = out.split("Where to look", 1)[1].splitlines()[1:]
    commands = [line.strip() for line in closing if line.strip().startswith("stead ")]
    assert len(commands) == 10, out
    for command in commands:
        done = _shell(command, tmp_path)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        assert "error" not in done.stderr.lower(), f"{command}: {done.stderr}"
        assert done.stdout.strip(), command


def _start_long_running(line: str, root: Path, stack: ExitStack, logs: Path) -> str:
    """Start ``stead server`` / ``stead serve`` as written, on a free port instead of the
    README's (tests run in parallel), and wait until it is healthy (ready, for serve)."""
    argv = shlex.split(line, comments=True)
    port = free_port()
    if "--port" in argv:
        argv[argv.index("--port") + 1] = str(port)
    else:
        argv += ["--port", str(port)]
    argv[0] = str(SCRIPTS / "stead")
    log = logs / f"{len(list(logs.iterdir()))}.log"
    return stack.enter_context(run_server(argv, port, env=_user_env(), inherit_env=False, cwd=root,
                                          deadline_s=120, health_path=HEALTH_PATHS[argv[1]], log_path=log))


def _ask_every_variant(url: str, root: Path, line: str) -> None:
    """Every variant the server serves is live and answers rows of the versioned table."""
    argv = shlex.split(line, comments=True)
    # the endpoint is named after the deployment, or the model a plain `stead serve` serves
    name = argv[argv.index("--deployment") + 1] if "--deployment" in argv else "churn"
    metadata = httpx.get(f"{url}/v2/models/{name}", timeout=10).json()
    assert metadata["variants"] and all(v["state"] == "live" for v in metadata["variants"]), (line, metadata)
    frame = pd.read_csv(root / "examples" / "data" / "customers.csv").drop(columns=["customer_id", "churned"])
    rows = frame.head(8)
    body = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
    answered = set()
    for _ in range(200):  # the canary takes 10%: 200 requests reach it with near certainty
        reply = httpx.post(f"{url}/invocations", json=body, timeout=10)
        assert reply.status_code == 200, (line, reply.text)
        assert len(reply.json()["predictions"]) == len(rows)
        answered.add(reply.headers.get("x-stead-variant", "default"))
        if len(answered) == len(metadata["variants"]):
            break
    assert len(answered) == len(metadata["variants"]), (line, answered)


@pytest.mark.slow
def test_every_readme_command_block_works_as_written_from_the_root(tmp_path: Path):
    blocks = readme_command_blocks((REPO / "README.md").read_text())
    assert blocks and blocks[0][0].startswith(SETUP_BLOCK), blocks[:1]
    _run_demo(tmp_path)
    logs = tmp_path / "server-logs"
    logs.mkdir()
    with ExitStack() as servers:
        for block in blocks[1:]:
            for line in block:
                if LONG_RUNNING.match(line):
                    url = _start_long_running(line, tmp_path, servers, logs)
                    if line.startswith("stead serve "):
                        _ask_every_variant(url, tmp_path, line)
                    continue
                done = _shell(line, tmp_path)
                assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"

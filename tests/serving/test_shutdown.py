"""Graceful shutdown of a real `stead serve` process: SIGTERM while a request is inside the
model lets that request finish with its answer, then the process exits with status 0.

The model blocks on a socket the test holds, so the test knows (from `accept`) that the
request is in the model, and releases it by sending a byte: no sleeps, no timing guesses."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from serving_helpers import Home
from server_process import free_port, wait_healthy


def _gate_model(gate_port: int) -> Any:
    from stead.models import PythonModel

    class GateModel(PythonModel):  # local class: pickled by value, loadable by the server
        def __init__(self, port: int) -> None:
            self.port = port

        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            values = np.asarray(model_input, dtype=float)
            if values.size and values.flat[0] == 42.0:
                with socket.create_connection(("127.0.0.1", self.port)) as gate:
                    gate.recv(1)  # held here until the test sends a byte
            return values * 2

    return GateModel(gate_port)


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path, sqlite_home: Home) -> None:
    import stead.models as sm

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(60)
        sm.save_model(_gate_model(listener.getsockname()[1]), tmp_path / "gate", input_example=np.zeros((1, 1)))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "serve", str(tmp_path / "gate"),
                "--name", "gate", "--port", str(port), "--timeout", "60", "--trust-pickle"]
        proc = subprocess.Popen(argv, env={**sqlite_home.env(), "PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            wait_healthy(url, proc, 60, "/v2/health/ready")
            answer: dict[str, Any] = {}

            def call() -> None:
                r = httpx.post(f"{url}/invocations", json={"inputs": [[42.0]]}, timeout=60)
                answer["status"], answer["body"] = r.status_code, r.json()

            caller = threading.Thread(target=call)
            caller.start()
            conn, _ = listener.accept()  # the request is now inside the model
            with conn:
                proc.send_signal(signal.SIGTERM)
                conn.sendall(b"go")
            caller.join(60)
            assert answer == {"status": 200, "body": {"predictions": [[84.0]]}}
            assert proc.wait(timeout=60) == 0  # drained, then a clean exit
            assert proc.stdout is not None and b"Traceback" not in proc.stdout.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _children(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(proc.name))
    return found


def _worker_count(metrics: str) -> tuple[int, float]:
    """(pid, inference requests answered) from one worker's /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    (info,) = families["stead_serving_worker_info"].samples
    count = sum(s.value for s in families["stead_serving_requests"].samples if s.name.endswith("_total"))
    return int(info.labels["pid"]), count


def test_workers_share_the_port_and_stop_together(tmp_path: Path, sqlite_home: Home) -> None:
    """`--workers 2`: two worker processes, each with the model, answer on one port; SIGTERM
    to the supervisor stops them all and it exits 0."""
    from concurrent.futures import ThreadPoolExecutor

    from serving_helpers import COLUMNS, expected, rows

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "serve", "models:/churn@production",
            "--workers", "2", "--port", str(port)]
    proc = subprocess.Popen(argv, env=sqlite_home.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, proc, 90, "/v2/health/ready")
        x = rows(8, seed=5)
        want = expected(sqlite_home, 1, x)
        body = {"dataframe_split": {"columns": COLUMNS, "data": x.tolist()}}

        def call(_: int) -> Any:
            with httpx.Client() as client:  # a new connection each time, so the kernel spreads them
                return client.post(f"{url}/invocations", json=body).json()["predictions"]

        with ThreadPoolExecutor(8) as pool:
            assert all(p == want for p in pool.map(call, range(64)))
        workers = [c for c in _children(proc.pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(workers) == 2
        # Each worker counts its own requests in /metrics under its pid; scrapes on new
        # connections reach both, and together they answered all 64.
        answered: dict[int, float] = {}
        for _ in range(200):
            with httpx.Client() as client:
                pid, count = _worker_count(client.get(f"{url}/metrics").text)
            answered[pid] = count
            if len(answered) == 2:
                break
        assert sorted(answered) == sorted(workers)
        assert all(n > 0 for n in answered.values()) and sum(answered.values()) == 64
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert not any(Path(f"/proc/{w}").exists() for w in workers)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

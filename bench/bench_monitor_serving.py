#!/usr/bin/env python
"""Does a monitor slow serving? p99 of ``stead serve`` at concurrency 16, with and without a
monitor checking the same deployment's prediction log at the same time.

    .venv/bin/python bench/bench_monitor_serving.py [--rounds 3] [--duration 10s] [--every 1s] [--window 10s]

One project in a temporary folder (SQLite store, a scikit-learn churn model trained on a
versioned dataset, its reference statistics computed once, deployment ``churn``), one
``stead serve --deployment churn --log-sample 1`` for the whole run (every request logged, so
the monitor has the traffic to read). Rounds alternate in one invocation: *without* (only the
model server) and *with* (a ``stead server`` beside it whose scheduler checks a monitor on the
deployment every ``--every``, over the last ``--window`` of the log: with a 1 s period the
monitor runs back to back, the worst case; the server is started before the round, the round
begins once its scheduler has claimed the first check, and the server is stopped after). Load:
wrk (one thread, c=16, ../shared/bench/serving's post.lua) POSTing 8 rows to ``/invocations``
of a logistic regression on four numeric features; without wrk, an asyncio httpx loop with 16
workers. Prints each round, the median p99 of each side and their ratio, and, for the *with*
rounds, the monitor runs finished, the rows each read and the CPU the monitor's server used
during the load (in cores: 1.0 is one core busy the whole round).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt_num, log, machine_note, median, pct, print_table

ROOT = Path(__file__).resolve().parents[1]
POST_LUA = ROOT.parent / "shared" / "bench" / "serving" / "post.lua"
FEATURES = ["tenure_months", "monthly_charges", "support_calls", "discount"]
CONC = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def customers(rows: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "tenure_months": rng.integers(1, 72, rows),
        "monthly_charges": rng.normal(70, 20, rows).round(2),
        "support_calls": rng.poisson(1.5, rows),
        "discount": rng.choice([0.0, 0.1, 0.2], rows, p=[0.5, 0.3, 0.2]),
    })
    risk = -0.05 * df.tenure_months + 0.02 * df.monthly_charges + 0.6 * df.support_calls
    df["churned"] = (risk + rng.normal(0, 1, rows) > risk.median()).astype(int)
    return df


def make_project(work: Path) -> dict[str, str]:
    """The project; the environment every process of the benchmark runs with."""
    import stead
    import stead.data
    from sklearn.linear_model import LogisticRegression

    from stead.config import Settings
    from stead.monitoring import references
    from stead.registry.client import RegistryClient
    from stead.registry.service import Registry
    from stead.serving.deployments import Deployments, Variant
    from stead.store import open_store
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    env = {"STEAD_HOME": str(work / "home"), "STEAD_STORE_URL": f"sqlite:///{work / 'stead.db'}",
           "STEAD_ARTIFACTS_URL": str(work / "artifacts"), "STEAD_TRACKING_URI": ""}
    settings = Settings(home=Path(env["STEAD_HOME"]), store_url=env["STEAD_STORE_URL"],
                        artifacts_url=env["STEAD_ARTIFACTS_URL"])
    table = customers(5000, seed=7)
    (work / "data").mkdir(parents=True)
    table.to_parquet(work / "data" / "customers.parquet")
    uri = stead.data.add(work / "data" / "customers.parquet", "customers", settings=settings).version.uri
    client = TrackingClient(settings)
    fluent.set_client(client)
    try:
        with fluent.start_run("churn") as run:
            stead.log_input(uri)
            model = LogisticRegression(max_iter=1000).fit(table[FEATURES], table["churned"])
            stead.log_model(model, "model", input_example=table[FEATURES].head(5))
        registry = RegistryClient(tracking=client, user="bench")
        version = registry.register_model(f"runs:/{run.info.run_id}/model", "churn")
        registry.set_alias("churn", "production", version.version)
    finally:
        fluent.set_client(None)
        client.close()
    store = open_store(env["STEAD_STORE_URL"])
    try:
        Deployments(store).create("churn", [Variant("primary", "churn@production", 100)])
        found = references.resolve_version(Registry(store, env["STEAD_ARTIFACTS_URL"]), "churn@production")
        references.ensure(store, found, settings=settings)  # once, as registering with lineage does
    finally:
        store.dispose()
    return env


def start(argv: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, **env})


def stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until(what: str, check: Any, proc: subprocess.Popen[bytes], deadline_s: float = 180) -> None:
    import httpx

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(what)


def load_wrk(url: str, body: Path, duration: str) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t1", f"-c{CONC}", f"-d{duration}", "--timeout", "10s", "--latency",
                          "-s", str(POST_LUA), url], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "BODY": str(body)})
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")), "")
    if not line:
        raise RuntimeError(f"wrk printed no RESULT line: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


def load_httpx(url: str, body: Path, duration: str) -> dict[str, float]:
    import httpx

    seconds = float(duration.rstrip("s"))
    content = body.read_bytes()
    latencies: list[float] = []
    errors = 0

    async def worker(client: httpx.AsyncClient, end: float) -> None:
        nonlocal errors
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            r = await client.post(url, content=content, headers={"content-type": "application/json"})
            latencies.append(time.perf_counter() - t0)
            errors += r.status_code >= 400

    async def run() -> None:
        limits = httpx.Limits(max_connections=CONC, max_keepalive_connections=CONC)
        async with httpx.AsyncClient(timeout=10, limits=limits) as client:
            end = time.perf_counter() + seconds
            await asyncio.gather(*(worker(client, end) for _ in range(CONC)))

    asyncio.run(run())
    ms = [x * 1000 for x in latencies]
    return {"rps": len(ms) / seconds, "p50_ms": pct(ms, 50) or 0.0, "p99_ms": pct(ms, 99) or 0.0,
            "max_ms": max(ms, default=0.0), "requests": len(ms), "non2xx": errors}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each side, alternating")
    ap.add_argument("--duration", default="10s", help="load per round")
    ap.add_argument("--every", default="1s", help="the monitor's period")
    ap.add_argument("--window", default="10s", help="how much of the log each monitor run reads")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "monitor_serving.json"))
    args = ap.parse_args()
    import httpx

    from stead.monitoring import create_monitor, delete_monitor, get_monitor, list_monitor_runs
    from stead.store import open_store

    loader = load_wrk if shutil.which("wrk") and POST_LUA.exists() else load_httpx
    work = Path(tempfile.mkdtemp(prefix="stead-bench-monitor-"))
    log(f"project in {work}; load generator: {loader.__name__}")
    env = make_project(work)
    rows = customers(64, seed=11)[FEATURES].values.tolist()
    body = work / "body.json"
    body.write_text(json.dumps({"dataframe_split": {"columns": FEATURES, "data": rows[:8]}}))
    port = free_port()
    url = f"http://127.0.0.1:{port}/invocations"
    serve = start([str(ROOT / ".venv" / "bin" / "stead"), "serve", "--deployment", "churn", "--port", str(port),
                   "--log-sample", "1", "--log-flush", "1", "--trust-pickle"], work / "serve.log", env)
    store = open_store(env["STEAD_STORE_URL"])
    results: dict[str, Any] = {"machine": machine_note(), "args": vars(args), "loader": loader.__name__,
                               "rounds": []}
    try:
        wait_until("stead serve", lambda: httpx.post(url, content=body.read_bytes(), timeout=2,
                                                     headers={"content-type": "application/json"}).status_code
                   == 200, serve)
        loader(url, body, "3s")  # warm-up, and traffic in the log for the first monitor run
        for i in range(args.rounds):
            for side in ("without", "with"):
                server = None
                if side == "with":
                    sport = free_port()
                    server = start([str(ROOT / ".venv" / "bin" / "stead"), "server", "--port", str(sport)],
                                   work / f"server-{i}.log", env)
                    wait_until("stead server", lambda: httpx.get(f"http://127.0.0.1:{sport}/health",
                                                                 timeout=2).status_code == 200, server)
                    name = f"churn-bench-{i + 1}"  # its own runs: a deleted monitor's runs stay in the store
                    made = create_monitor(store, name, "churn", every=args.every, window=args.window)
                    # claimed: the server's scheduler has taken the first period and is checking it
                    wait_until("the first monitor check", lambda: get_monitor(store, name).next_due
                               > made.next_due, server)
                    cpu_before = cpu_seconds(server.pid)
                t0 = time.monotonic()
                r = loader(url, body, args.duration)
                r.update(side=side, round=i + 1, loadavg1=os.getloadavg()[0])
                if server is not None:
                    r["monitor_cpu_share"] = (cpu_seconds(server.pid) - cpu_before) / (time.monotonic() - t0)
                    during = list_monitor_runs(store, name, limit=100_000)  # finished by now
                    stop(server)
                    delete_monitor(store, name)
                    r["monitor_runs"] = len(during)
                    r["monitor_rows"] = [run.summary.get("rows", 0) for run in during]
                    r["monitor_statuses"] = sorted({run.status for run in during})
                results["rounds"].append(r)
                extra = (f" monitor: {r['monitor_runs']} runs finished, rows/run={median(r['monitor_rows']) or 0:.0f} "
                         f"{r['monitor_statuses']}, CPU {r['monitor_cpu_share']:.2f} cores" if side == "with" else "")
                log(f"round {i + 1} {side:7s}: rps={r['rps']:.0f} p50={r['p50_ms']:.2f} ms "
                    f"p99={r['p99_ms']:.2f} ms non2xx={r.get('non2xx', 0):.0f}{extra}")
    finally:
        stop(serve)
        store.dispose()
    p99 = {side: median(r["p99_ms"] for r in results["rounds"] if r["side"] == side) for side in ("without", "with")}
    rps = {side: median(r["rps"] for r in results["rounds"] if r["side"] == side) for side in ("without", "with")}
    spread = [r["p99_ms"] for r in results["rounds"] if r["side"] == "without"]
    results["summary"] = {"p99_ms": p99, "rps": rps, "ratio": (p99["with"] / p99["without"])
                          if p99["with"] and p99["without"] else None}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print()
    print_table(["", "without a monitor", "with a monitor running", "ratio"], [
        ["p99 (median of rounds)", fmt_num(p99["without"], " ms"), fmt_num(p99["with"], " ms"),
         fmt_num(results["summary"]["ratio"], "x")],
        ["requests/s (median)", fmt_num(rps["without"]), fmt_num(rps["with"]),
         fmt_num(rps["with"] / rps["without"] if rps["with"] and rps["without"] else None, "x")],
        ["p99 per round", ", ".join(f"{x:.1f}" for x in spread),
         ", ".join(f"{r['p99_ms']:.1f}" for r in results["rounds"] if r["side"] == "with"), ""],
    ])
    with_rounds = [r for r in results["rounds"] if r["side"] == "with"]
    print(f"\nmonitor runs finished in the 'with' rounds: {[r['monitor_runs'] for r in with_rounds]}, rows per run "
          f"(median): {[median(r['monitor_rows']) for r in with_rounds]}, the monitor server's CPU during the load "
          f"(cores): {[round(r['monitor_cpu_share'], 2) for r in with_rounds]}; machine: {results['machine']}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

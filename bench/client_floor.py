#!/usr/bin/env python
"""Where the official MLflow client's time goes in the calls of issue 3's benchmark.

    .venv-mlflow/bin/python bench/client_floor.py --uri http://127.0.0.1:5000 --uri http://127.0.0.1:5001

Run with the MLflow virtualenv's python against servers already started (for example
``mlflow server --workers 1`` and ``stead server``, each on a fresh SQLite store). For each
URI it loads the workload of ``../shared/bench/tracking`` (1,000 runs with 5 params,
3 metrics and 2 tags; one 10,000-step metric), then times the client's calls: one
``log_metric``, one ``log_batch`` of 1,000 points, a filtered and ordered search of 100 rows,
an unfiltered search of 1,000 rows, the 10,000-step history and the upload of a 50 MiB
artifact. For each call it reports the wall time, the CPU time of the client's own process
(``time.process_time``: building and encoding the request, sending the body, decoding the
answer; the server is another process) and, of that, ``parse_dict`` (turning the answer's
JSON into protobuf messages, wrapped in place).

The client's CPU time is work no server can take away: a server that answered in no time at
all would still leave it. So ``best possible ratio`` = the first URI's wall time / the
client's CPU time against the last URI is the most any server can be faster than the first,
with this client, on this machine. Medians of ``--reps`` calls after one warm-up call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow.utils.rest_utils as rest_utils  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402

_spent = {"parse": 0.0}


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _spent[name] += time.perf_counter() - t

    return wrapper


rest_utils.parse_dict = _timed("parse", rest_utils.parse_dict)


def populate(client: MlflowClient) -> tuple[str, str]:
    """The shared harness's search and history workloads; returns (experiment, history run)."""
    eid = client.create_experiment(f"floor-{uuid.uuid4().hex[:8]}")
    now = int(time.time() * 1000)
    for i in range(1000):
        run = client.create_run(eid, run_name=f"r{i}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("loss", 1.0 / (i + 1), now, 0), Metric("acc", (i % 100) / 100, now, 0),
                     Metric("f1", (i % 37) / 37, now, 0)],
            params=[Param(f"p{j}", f"v{(i * (j + 3)) % 11}") for j in range(5)],
            tags=[RunTag("team", "a" if i % 2 else "b"), RunTag("idx", str(i))],
        )
    hist = client.create_run(eid, run_name="history")
    for start in range(0, 10_000, 1000):
        client.log_batch(hist.info.run_id,
                         metrics=[Metric("h", float(s), now + s, s) for s in range(start, start + 1000)])
    return eid, hist.info.run_id


def measure(call: Callable[[], Any], reps: int) -> dict[str, float]:
    call()  # warm-up
    walls, cpus, parses = [], [], []
    for _ in range(reps):
        _spent["parse"] = 0.0
        t, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - cpu)
        parses.append(_spent["parse"])
    wall, cpu, parse = (statistics.median(v) * 1000 for v in (walls, cpus, parses))
    return {"wall": wall, "cpu": cpu, "parse": parse}


def calls(client: MlflowClient, eid: str, hist: str, blob: str) -> dict[str, Callable[[], Any]]:
    run = client.create_run(eid, run_name="writes").info.run_id
    now = int(time.time() * 1000)
    step = iter(range(10**9))
    batch = [Metric("b", float(j), now, j) for j in range(1000)]
    return {
        "log_metric": lambda: client.log_metric(run, "m", 0.5, now, next(step)),
        "log_batch, 1,000 points": lambda: client.log_batch(run, metrics=batch),
        "filtered+ordered search, 100 rows": lambda: client.search_runs(
            [eid], "metrics.acc > 0.5 and params.p0 != 'v3'", order_by=["metrics.loss ASC"], max_results=100),
        "unfiltered search, 1,000 rows": lambda: client.search_runs([eid], max_results=1000),
        "metric history, 10,000 steps": lambda: client.get_metric_history(hist, "h"),
        "artifact upload, 50 MiB": lambda: client.log_artifact(run, blob, artifact_path=f"a{next(step)}"),
    }


def measure_uri(uri: str, reps: int) -> dict[str, dict[str, float]]:
    client = MlflowClient(tracking_uri=uri)
    eid, hist = populate(client)
    blob = os.path.join(tempfile.mkdtemp(), "blob.bin")
    with open(blob, "wb") as f:
        f.write(os.urandom(50 << 20))
    try:
        return {name: measure(call, reps) for name, call in calls(client, eid, hist, blob).items()}
    finally:
        os.unlink(blob)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uri", action="append", required=True, help="a tracking server (repeat; first = baseline)")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="measure the one --uri and print JSON (used internally)")
    args = ap.parse_args()
    if args.json:
        print(json.dumps(measure_uri(args.uri[0], args.reps)))
        return
    # Each server is measured by a client process of its own, so that neither pays for the
    # heap (and the garbage collector's passes over it) that measuring the other left behind.
    results: dict[str, dict[str, dict[str, float]]] = {}
    for uri in args.uri:
        out = subprocess.run([sys.executable, __file__, "--uri", uri, "--reps", str(args.reps), "--json"],
                             check=True, capture_output=True, text=True).stdout
        results[uri] = json.loads(out.strip().splitlines()[-1])
    print(f"load average {os.getloadavg()[0]:.2f}; medians of {args.reps} calls, ms\n")
    print("| call | server | wall | client CPU | of which parse_dict |")
    print("|---|---|---:|---:|---:|")
    for uri, by_call in results.items():
        for name, m in by_call.items():
            print(f"| {name} | {uri} | {m['wall']:.1f} | {m['cpu']:.1f} | {m['parse']:.1f} |")
    if len(args.uri) > 1:
        base, last = results[args.uri[0]], results[args.uri[-1]]
        print("\n| call | measured ratio | best possible ratio (a server answering in no time) |\n|---|---:|---:|")
        for name in base:
            print(f"| {name} | {base[name]['wall'] / last[name]['wall']:.1f}x | {base[name]['wall'] / last[name]['cpu']:.1f}x |")


if __name__ == "__main__":
    main()

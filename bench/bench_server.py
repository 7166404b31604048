#!/usr/bin/env python3
"""Tracking-server benchmark (issue 3): ``mlflow server`` (default and ``--workers 1``) against
``stead server``, all driven by the official MLflow client, in one invocation.

    .venv/bin/python bench/bench_server.py [--quick] [--out results.json] [--stead-workers N]

For each server, in turn, on 127.0.0.1 and a free port, with a fresh SQLite database and a
fresh local artifact folder:

  1. launch it (``mlflow server`` with the MLflow venv's ``bin/`` on PATH and
     ``MLFLOW_DISABLE_TELEMETRY=true``; ``stead server`` from ``.venv``) and time launch ->
     first ``200`` from ``/health`` (polled every 50 ms, bounded deadline);
  2. run the shared harness ``../shared/bench/tracking/bench_tracking.py --uri
     http://127.0.0.1:PORT`` under the MLflow venv's python and read its JSON;
  3. count the server's processes (its session, from /proc) and sum their RSS;
  4. stop it (SIGTERM to the process group, SIGKILL after 15 s).

The servers run one after another, not at once: on a 2-core machine two servers under load
would steal each other's CPU. The table compares each workload with ``mlflow server
--workers 1`` (MLflow's best configuration here) and prints the issue's target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import fmt_num, loadavg1, log, machine_note, print_table, ratio, run_json  # noqa: E402

REPO = HERE.parent
DEFAULT_HARNESS = REPO.parent / "shared" / "bench" / "tracking" / "bench_tracking.py"
MLFLOW_PYTHONS = [REPO / ".venv-mlflow" / "bin" / "python", Path("/tmp/mlflowvenv/bin/python")]

FULL = {"a_points": 1000, "b_batches": 50, "b_batch_size": 1000, "c_runs": 1000, "c_search_reps": 20,
        "c_full_reps": 5, "d_steps": 10000, "d_reps": 5, "e_mib": 50, "e_reps": 3}
QUICK = {"a_points": 200, "b_batches": 5, "b_batch_size": 1000, "c_runs": 200, "c_search_reps": 5,
         "c_full_reps": 2, "d_steps": 2000, "d_reps": 2, "e_mib": 10, "e_reps": 1}
HEALTH_DEADLINE_S = 180.0
HARNESS_TIMEOUT_S = 3600.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_mlflow_python(given: str | None) -> str:
    for cand in ([Path(given)] if given else MLFLOW_PYTHONS):
        if cand.exists():
            return str(cand)
    raise SystemExit("no MLflow virtualenv found: pass --mlflow-python (see bench/README.md)")


# ---- process accounting from /proc (psutil is not in .venv) --------------------------------

def _session_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # fields after the ")" that closes comm: state ppid pgrp session ...
    return int(stat.rsplit(")", 1)[1].split()[3])


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def footprint(session: int) -> dict[str, Any]:
    """Processes in the server's session (it was started with start_new_session) and their
    summed resident memory."""
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and _session_of(int(p)) == session]
    return {"processes": len(pids), "rss_mib": round(sum(_rss_kib(p) for p in pids) / 1024, 1)}


# ---- servers -------------------------------------------------------------------------------

def server_specs(mlflow_python: str, stead_workers: list[int], which: list[str]) -> list[dict[str, Any]]:
    mlbin = str(Path(mlflow_python).parent)
    ml_env = {"PATH": mlbin + os.pathsep + os.environ.get("PATH", ""), "MLFLOW_DISABLE_TELEMETRY": "true",
              "DO_NOT_TRACK": "true"}
    specs = []
    if "mlflow" in which:
        specs.append({"label": "mlflow default", "kind": "mlflow", "extra": [], "env": ml_env})
    if "mlflow1" in which:
        specs.append({"label": "mlflow --workers 1", "kind": "mlflow", "extra": ["--workers", "1"], "env": ml_env})
    if "stead" in which:
        for n in stead_workers:
            label = "stead" if n == 1 else f"stead --workers {n}"
            specs.append({"label": label, "kind": "stead", "extra": [] if n == 1 else ["--workers", str(n)],
                          "env": {}})
    return specs


def command_of(spec: dict[str, Any], mlflow_python: str, port: int, work: Path) -> list[str]:
    if spec["kind"] == "mlflow":
        return [str(Path(mlflow_python).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
                "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}",
                "--artifacts-destination", str(work / "mlartifacts"), *spec["extra"]]
    stead = Path(sys.executable).parent / "stead"
    return [str(stead), "server", "--host", "127.0.0.1", "--port", str(port),
            "--store-url", f"sqlite:///{work / 'stead.db'}", "--artifacts-url", str(work / "artifacts"),
            *spec["extra"]]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], deadline_s: float) -> float:
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before becoming healthy")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2.0) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() - t0 > deadline_s:
            raise TimeoutError(f"{url}/health not healthy after {deadline_s:.0f} s")
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def bench_one(spec: dict[str, Any], mlflow_python: str, harness: Path, sz: dict[str, int], work: Path,
              settle_s: float) -> dict[str, Any]:
    work.mkdir(parents=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = command_of(spec, mlflow_python, port, work)
    env = {**os.environ, **spec["env"], "STEAD_HOME": str(work / "home")}
    logf = open(work / "server.log", "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        try:
            start_s = wait_healthy(url, proc, HEALTH_DEADLINE_S)
        except Exception:
            logf.flush()
            raise RuntimeError(f"{spec['label']}: {(work / 'server.log').read_text(errors='replace')[-3000:]}")
        log(f"{spec['label']}: healthy after {start_s:.2f}s on port {port} ({time.monotonic() - t0:.2f}s)")
        if settle_s:
            time.sleep(settle_s)  # MLflow starts background job consumers after /health answers
        before = footprint(proc.pid)
        hcmd = [mlflow_python, str(harness), "--uri", url, "--label", spec["label"].replace(" ", "_"),
                "--outdir", str(work / "results"), "--tmpdir", str(work)]
        hcmd += [f"--{k.replace('_', '-')}={v}" for k, v in sz.items()]
        la = loadavg1()
        res = run_json(hcmd, env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"},
                       timeout=HARNESS_TIMEOUT_S, stderr_path=str(work / "harness.stderr.log"))
        after = footprint(proc.pid)
        res["server"] = {"label": spec["label"], "command": cmd, "start_to_healthy_s": round(start_s, 3),
                         "before": before, "after": after, "loadavg1": [la, loadavg1()]}
        log(f"{spec['label']}: workloads done in {res['total_wall_s']}s; {after['processes']} processes, "
            f"{after['rss_mib']} MiB")
        return res
    finally:
        stop(proc)
        logf.close()


# ---- table ---------------------------------------------------------------------------------

def dig(d: dict[str, Any], path: tuple[str, ...]) -> Any:
    for k in path:
        d = d[k]
    return d


ROWS: list[tuple[str, tuple[str, ...], bool, str, float]] = [
    # label, path into the result, higher is better, target text, target ratio vs --workers 1
    ("log_metric, 1 call/point (points/s)", ("workloads", "a_log_metric_single", "points_per_s"), True, "≥5x", 5),
    ("log_batch 1,000 points/call (points/s)", ("workloads", "b_log_batch", "points_per_s"), True, "≥5x", 5),
    ("create runs: create + log_batch (runs/s)", ("workloads", "c_runs_search", "runs_per_s"), True, "≥5x", 5),
    ("filtered+ordered search, 100 rows, p50 (ms)",
     ("workloads", "c_runs_search", "search_filtered", "p50_ms"), False, "≥10x", 10),
    ("unfiltered search, 1,000 rows, p50 (ms)",
     ("workloads", "c_runs_search", "search_unfiltered_1000", "p50_ms"), False, "≥10x", 10),
    ("metric history, p50 (ms)", ("workloads", "d_metric_history", "p50_ms"), False, "≥10x", 10),
    ("artifact upload (MiB/s)", ("workloads", "e_artifacts", "upload_mib_per_s"), True, "≥3x", 3),
    ("artifact download (MiB/s)", ("workloads", "e_artifacts", "download_mib_per_s"), True, "≥3x", 3),
]


def build_table(results: dict[str, dict[str, Any]], sz: dict[str, int]) -> tuple[list[str], list[list[str]],
                                                                                 list[dict[str, Any]]]:
    labels = list(results)
    base = "mlflow --workers 1"
    steads = [lb for lb in labels if lb.startswith("stead")]
    headers = ["workload", *labels]
    headers += [f"{s} vs workers-1" for s in steads] + ["target"]
    rows, summary = [], []

    def cell(lb: str, path: tuple[str, ...]) -> float | None:
        try:
            return dig(results[lb], path)
        except (KeyError, TypeError):
            return None

    for label, path, hib, target, need in ROWS:
        label = label.replace("metric history", f"metric history, {sz['d_steps']:,} steps").replace(
            "artifact", f"artifact {sz['e_mib']} MiB")
        vals = {lb: cell(lb, path) for lb in labels}
        ratios = {s: ratio(vals.get(base), vals[s], hib) for s in steads}
        row = [label, *(fmt_num(vals[lb]) for lb in labels)]
        marks = []
        for s in steads:
            x = ratios[s]
            row.append("–" if x is None else f"{x:.1f}x")
            marks.append(None if x is None else x >= need)
        ok = marks[0] if marks else None
        row.append(target + (" ✓" if ok else " ✗" if ok is not None else ""))
        rows.append(row)
        summary.append({"workload": label, "values": vals, "ratios_vs_workers1": ratios, "meets": ok})

    for label, key, target, limit in (("start to healthy (s)", "start_to_healthy_s", "< 2 s", 2.0),):
        vals = {lb: results[lb]["server"][key] for lb in labels}
        row = [label, *(f"{vals[lb]:.2f}" for lb in labels)]
        row += [f"{ratio(vals.get(base), vals[s], False) or 0:.1f}x" for s in steads]
        ok = vals[steads[0]] < limit if steads else None
        rows.append(row + [target + (" ✓" if ok else " ✗" if ok is not None else "")])
        summary.append({"workload": label, "values": vals, "meets": ok})
    procs = {lb: results[lb]["server"]["after"]["processes"] for lb in labels}
    rows.append(["server processes", *(str(procs[lb]) for lb in labels), *("" for _ in steads), ""])
    rss = {lb: results[lb]["server"]["after"]["rss_mib"] for lb in labels}
    ok = rss[steads[0]] < 300 if steads else None
    rows.append(["summed RSS after the workload (MiB)", *(fmt_num(rss[lb]) for lb in labels),
                 *(f"{ratio(rss.get(base), rss[s], False) or 0:.1f}x" for s in steads),
                 "< 300 MiB" + (" ✓" if ok else " ✗" if ok is not None else "")])
    summary.append({"workload": "processes", "values": procs})
    summary.append({"workload": "rss_mib", "values": rss, "meets": ok})
    return headers, rows, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mlflow-python", help="python of a virtualenv with mlflow==3.17.2 "
                    "(default: .venv-mlflow/bin/python, then /tmp/mlflowvenv/bin/python)")
    ap.add_argument("--harness", default=str(DEFAULT_HARNESS), help="the shared MLflow harness")
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run (~3 min)")
    ap.add_argument("--servers", default="mlflow,mlflow1,stead",
                    help="which to run, comma-separated: mlflow (default workers), mlflow1 (--workers 1), stead")
    ap.add_argument("--stead-workers", default="1",
                    help="comma-separated worker counts for stead columns (default 1, e.g. '1,2')")
    ap.add_argument("--only", default="abcde", help="harness workloads to run (default abcde)")
    ap.add_argument("--settle", type=float, default=5.0,
                    help="seconds to wait after /health before the workload (MLflow's job consumers)")
    ap.add_argument("--out", help="write every server's raw harness JSON, footprints and the table here")
    ap.add_argument("--keep", action="store_true", help="keep the databases, artifacts and logs (path printed)")
    args = ap.parse_args()

    sz = dict(QUICK if args.quick else FULL)
    mlpy = find_mlflow_python(args.mlflow_python)
    harness = Path(args.harness)
    which = [w.strip() for w in args.servers.split(",") if w.strip()]
    specs = server_specs(mlpy, [int(n) for n in args.stead_workers.split(",")], which)
    root = Path(tempfile.mkdtemp(prefix="stead-bench-server-"))
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    result: dict[str, Any] = {
        "command": " ".join([os.path.relpath(sys.executable), *sys.argv]),
        "machine": machine_note(), "uptime_before": uptime, "sizes": sz, "mlflow_python": mlpy, "servers": {},
    }
    result["mlflow_version"] = subprocess.run([mlpy, "-c", "import mlflow;print(mlflow.__version__)"],
                                              capture_output=True, text=True,
                                              env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}).stdout.strip()
    log(f"working in {root}; sizes {sz}; {uptime}")
    hsz = {k: v for k, v in sz.items()} | {"only": args.only}
    try:
        for i, spec in enumerate(specs):
            result["servers"][spec["label"]] = bench_one(spec, mlpy, harness, hsz, root / f"s{i}",
                                                         args.settle if spec["kind"] == "mlflow" else 0.0)
    finally:
        result["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    headers, rows, summary = build_table(result["servers"], sz)
    result["summary"] = summary
    import stead

    print()
    print(f"stead {stead.__version__} vs MLflow {result['mlflow_version']} tracking servers, SQLite backends, "
          f"official MLflow client; one server at a time; {result['machine']['cpus']} CPUs")
    print(f"load: before `{result['uptime_before']}`; after `{result['uptime_after']}`")
    text = print_table(headers, rows)
    result["table"] = text
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

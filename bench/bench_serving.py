"""Serving benchmark: one scikit-learn model served by stead, `mlflow models serve` and MLServer.

Uses the harness in ../shared/bench/serving (its make_model.py, bodies, wrk script
bench_http.sh with one thread). All three servers run side by side on 127.0.0.1 and the
runs are interleaved per (rows, concurrency). Bounded: every wrk run lasts --duration.

    .venv/bin/python bench/bench_serving.py [--duration 5s] [--concs 1,16,64,256] [--cold-runs 3]

MLflow lives only in .venv-mlflow; MLServer in /tmp/mlserver-venv
(pip install mlserver mlserver-sklearn 'uvloop==0.21.0').
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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT.parent / "shared" / "bench" / "serving"
MLFLOW_VENV = ROOT / ".venv-mlflow"
MLSERVER_VENV = Path(os.environ.get("MLSERVER_VENV", "/tmp/mlserver-venv"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(argv: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, cwd=cwd, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, **(env or {})})


def wait_ok(url: str, body: bytes, proc: subprocess.Popen[bytes], deadline_s: float = 180) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=2).status_code == 200:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise TimeoutError(url)


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


def rss_mb(pid: int) -> float:
    """Resident memory of the process group led by ``pid`` (all its processes), MB."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[3]) != pid and int(entry.name) != pid:  # field 5: process group id
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024


def wrk(url: str, body: Path, conc: int, duration: str) -> dict[str, float]:
    out = subprocess.run([str(HARNESS / "bench_http.sh"), url, str(body), str(conc), duration],
                         capture_output=True, text=True, timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")), "")
    vals = dict(kv.split("=") for kv in line.split()[1:])
    return {k: float(v) for k, v in vals.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", default="5s")
    ap.add_argument("--concs", default="1,16,64,256")
    ap.add_argument("--cold-runs", type=int, default=3, help="launches per server for the cold start median")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "serving.json"))
    args = ap.parse_args()
    concs = [int(c) for c in args.concs.split(",")]
    work = Path(tempfile.mkdtemp(prefix="stead-bench-serving-"))
    harness = work / "harness"
    shutil.copytree(HARNESS, harness, ignore=shutil.ignore_patterns("results"))
    data = work / "data"
    subprocess.run([str(MLFLOW_VENV / "bin" / "python"), str(harness / "make_model.py"), str(data)], check=True,
                   capture_output=True, timeout=300)
    bodies = harness / "bodies"
    ports = {"stead": free_port(), "mlflow": free_port()}
    ms_settings = json.loads((data / "mlserver_repo" / "settings.json").read_text())
    ms_settings.update(http_port=free_port(), grpc_port=free_port(), metrics_port=free_port())
    (data / "mlserver_repo" / "settings.json").write_text(json.dumps(ms_settings))
    stead_bin = str(ROOT / ".venv" / "bin" / "stead")
    launch = {
        "stead": lambda: start([stead_bin, "serve", str(data / "mlflow_model"), "--name", "lr", "--port",
                                str(ports["stead"])], work, work / "stead.log",
                               {"STEAD_HOME": str(work / "home")}),
        "mlflow": lambda: start([str(MLFLOW_VENV / "bin" / "mlflow"), "models", "serve", "-m", str(data / "mlflow_model"),
                                 "--env-manager", "local", "-h", "127.0.0.1", "-p", str(ports["mlflow"])], work,
                                work / "mlflow.log", {"PATH": f"{MLFLOW_VENV / 'bin'}:{os.environ['PATH']}"}),
        "mlserver": lambda: start([str(MLSERVER_VENV / "bin" / "mlserver"), "start", "mlserver_repo"], data,
                                  work / "mlserver.log", {"PATH": f"{MLSERVER_VENV / 'bin'}:{os.environ['PATH']}"}),
    }
    targets = {  # name -> (url, body prefix)
        "stead-v2": (f"http://127.0.0.1:{ports['stead']}/v2/models/lr/infer", "v2"),
        "stead-mlflow": (f"http://127.0.0.1:{ports['stead']}/invocations", "mlflow"),
        "mlflow": (f"http://127.0.0.1:{ports['mlflow']}/invocations", "mlflow"),
        "mlserver": (f"http://127.0.0.1:{ms_settings['http_port']}/v2/models/lr/infer", "v2"),
    }
    server_of = {"stead-v2": "stead", "stead-mlflow": "stead", "mlflow": "mlflow", "mlserver": "mlserver"}
    results: dict[str, object] = {"cold_start_s": {}, "rss_mb_idle": {}, "rss_mb_after": {}, "matrix": []}
    procs = {}
    try:
        # cold start: launch -> first 200 on the 1-row body, --cold-runs times per server, interleaved;
        # the median is reported; the last launch of each server stays up for the load runs
        starts: dict[str, list[float]] = {name: [] for name in launch}
        for run in range(args.cold_runs):
            for name in ("stead", "mlflow", "mlserver"):
                url, prefix = targets["stead-v2" if name == "stead" else name]
                procs[name] = launch[name]()
                starts[name].append(round(wait_ok(url, (bodies / f"{prefix}_1.json").read_bytes(), procs[name]), 2))
                time.sleep(1)
                results["rss_mb_idle"][name] = round(rss_mb(procs[name].pid), 1)
                print(f"{name}: cold start {starts[name][-1]} s, idle RSS {results['rss_mb_idle'][name]} MB",
                      flush=True)
                if run < args.cold_runs - 1:
                    stop(procs.pop(name))
        results["cold_start_runs_s"] = starts
        results["cold_start_s"] = {name: sorted(v)[len(v) // 2] for name, v in starts.items()}
        for t, (url, prefix) in targets.items():  # warm-up, not recorded
            wrk(url, bodies / f"{prefix}_1.json", 16, "2s")
        for rows in (1, 100):
            for conc in concs:
                for t, (url, prefix) in targets.items():
                    r = wrk(url, bodies / f"{prefix}_{rows}.json", conc, args.duration)
                    r.update(target=t, rows=rows, conc=conc)
                    results["matrix"].append(r)
                    print(f"{t:13s} rows={rows:3d} c={conc:3d} rps={r.get('rps', 0):8.1f} "
                          f"p50={r.get('p50_ms', 0):7.2f} p99={r.get('p99_ms', 0):8.2f} non2xx={r.get('non2xx', 0):.0f} "
                          f"errs={r.get('connect_err', 0) + r.get('read_err', 0) + r.get('timeouts', 0):.0f}", flush=True)
        url, prefix = targets["stead-v2"]
        r = wrk(url, bodies / f"{prefix}_1.json", 1000, args.duration)
        r.update(target="stead-v2", rows=1, conc=1000)
        results["matrix"].append(r)
        results["c1000"] = r
        print(f"stead-v2 at 1000 connections: {r}", flush=True)
        for name, p in procs.items():
            results["rss_mb_after"][name] = round(rss_mb(p.pid), 1)
    finally:
        for p in procs.values():
            stop(p)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print_summary(results)
    shutil.rmtree(work, ignore_errors=True)


def print_summary(results: dict) -> None:
    cell = {(r["target"], r["rows"], r["conc"]): r for r in results["matrix"]}
    print("\n| rows | conc | stead V2 rps (p99 ms) | stead /invocations rps (p99) | MLServer rps (p99) | MLflow rps (p99) "
          "| stead V2 / MLServer | stead inv. / MLflow |")
    print("|---|---|---|---|---|---|---|---|")
    for rows in (1, 100):
        for conc in sorted({k[2] for k in cell if k[1] == rows and k[2] != 1000}):
            g = {t: cell.get((t, rows, conc), {}) for t in ("stead-v2", "stead-mlflow", "mlserver", "mlflow")}
            f = {t: f"{v.get('rps', 0):.0f} ({v.get('p99_ms', 0):.1f})" for t, v in g.items()}
            r1 = g["stead-v2"].get("rps", 0) / max(g["mlserver"].get("rps", 0), 1e-9)
            r2 = g["stead-mlflow"].get("rps", 0) / max(g["mlflow"].get("rps", 0), 1e-9)
            print(f"| {rows} | {conc} | {f['stead-v2']} | {f['stead-mlflow']} | {f['mlserver']} | {f['mlflow']} "
                  f"| {r1:.1f}x | {r2:.1f}x |")
    print(f"\ncold start s (median): {results['cold_start_s']}, all runs: {results.get('cold_start_runs_s')}; "
          f"idle RSS MB: {results['rss_mb_idle']}; "
          f"RSS after load MB: {results['rss_mb_after']}")


if __name__ == "__main__":
    sys.exit(main())

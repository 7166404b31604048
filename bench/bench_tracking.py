#!/usr/bin/env python3
"""Tracking benchmark (issue 2): MLflow's client on its embedded SQLite store against stead's
embedded client on SQLite, side by side in one invocation.

    .venv/bin/python bench/bench_tracking.py [--mlflow-python PATH] [--quick] [--out results.json]

Workloads: those of ../shared/bench/tracking/bench_tracking.py (the MLflow half *is* that
harness, run under the MLflow virtualenv's python with ``--uri sqlite:///...`` and
``--only abcd``; its JSON is read from its stdout). The stead half replays the same
workloads, same sizes and seed, through ``stead.TrackingClient`` in a fresh ``.venv``
process per repetition:

  a) log_metric, one call per point (2,000) -> points/s. stead buffers points, so stead's
     time is the N calls PLUS the final ``flush()`` (after which every point is durable).
  b) log_batch 50 x 1,000 points -> points/s
  c) 1,000 runs, each: create_run + one log_batch of 5 params, 3 metrics, 2 tags -> runs/s;
     search_runs "metrics.acc > 0.5 and params.lr = '0.01'" ORDER BY metrics.acc DESC,
     max_results 100 (p50 of 20); unfiltered search_runs, max_results 1000 (p50 of 5)
  d) get_metric_history of a 10,000-step metric (p50 of 5)
  big) stead only: the filtered search above over 100,000 runs (p50 of 20; target < 50 ms).
     The 100,000 runs are bulk-inserted straight into stead's tables (runs, tags, params,
     metrics, latest_metrics; one transaction per 10,000 runs, rows exactly as the API
     writes them), since populating through the API one run at a time takes minutes.
  import) ``import stead`` (and ``import mlflow``) in a fresh interpreter, median of 7.

Each repetition runs a fresh MLflow process and a fresh stead process on fresh databases,
alternating which goes first; the table shows medians over repetitions. Ratios say how many
times better stead is (throughput: stead/MLflow; latency: MLflow/stead); target is 10x.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import (  # noqa: E402
    Timer,
    fmt_num,
    import_time,
    loadavg1,
    log,
    machine_note,
    measure,
    median,
    print_table,
    ratio,
    run_json,
    summarize_ms,
)

REPO = HERE.parent
DEFAULT_HARNESS = REPO.parent / "shared" / "bench" / "tracking" / "bench_tracking.py"
MLFLOW_PYTHONS = [REPO / ".venv-mlflow" / "bin" / "python", Path("/tmp/mlflowvenv/bin/python")]

FULL = {"a_points": 2000, "b_batches": 50, "b_batch_size": 1000, "b_keys": 10, "c_runs": 1000,
        "c_search_reps": 20, "c_full_reps": 5, "d_steps": 10000, "d_reps": 5,
        "big_runs": 100_000, "big_reps": 20, "reps": 3, "import_reps": 7}
QUICK = {"a_points": 200, "b_batches": 5, "b_batch_size": 1000, "b_keys": 10, "c_runs": 200,
         "c_search_reps": 5, "c_full_reps": 2, "d_steps": 2000, "d_reps": 2,
         "big_runs": 5000, "big_reps": 5, "reps": 1, "import_reps": 3}
SEED = 1234
FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
ORDER = ["metrics.acc DESC"]


def now_ms() -> int:
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------------------
# stead worker: runs in a fresh .venv process, prints one JSON object (harness-shaped keys)
# ---------------------------------------------------------------------------------------
def _stead_client(workdir: Path):  # type: ignore[no-untyped-def]
    from stead.config import Settings
    from stead.tracking.client import TrackingClient

    settings = Settings(home=workdir, store_url=f"sqlite:///{workdir / 'stead.db'}",
                        artifacts_url=str(workdir / "artifacts"))
    return TrackingClient(settings)


def stead_worker(sz: dict[str, int], workdir: Path, only: str) -> dict[str, Any]:
    from stead.tracking.records import Metric

    rng = random.Random(SEED)
    tag = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    t = time.perf_counter()
    client = _stead_client(workdir)
    client.search_experiments(max_results=1)
    out: dict[str, Any] = {"setup_s": round(time.perf_counter() - t, 3), "workloads": {}}

    def new_exp(s: str) -> str:
        return client.create_experiment(f"bench-{tag}-{s}")

    def w_a() -> dict[str, Any]:
        n = sz["a_points"]
        run = client.create_run(new_exp("a"), run_name="log_metric_single").info.run_id
        t0 = time.perf_counter()
        for i in range(n):
            client.log_metric(run, "loss", 1.0 / (i + 1), timestamp=now_ms(), step=i)
        calls = time.perf_counter() - t0
        client.flush()
        dt = time.perf_counter() - t0
        hist = client.get_metric_history(run, "loss").items
        assert len(hist) == n, f"expected {n} points, got {len(hist)}"
        return {"points": n, "seconds": round(dt, 3), "points_per_s": round(n / dt, 1),
                "mean_call_ms": round(dt / n * 1000, 4), "calls_only_s": round(calls, 4),
                "flush_s": round(dt - calls, 4), "note": "N log_metric calls + final flush() (durable)"}

    def w_b() -> dict[str, Any]:
        nb, bs, nk = sz["b_batches"], sz["b_batch_size"], sz["b_keys"]
        run = client.create_run(new_exp("b"), run_name="log_batch").info.run_id
        spb = bs // nk
        per = []
        t0 = time.perf_counter()
        for b in range(nb):
            ts = now_ms()
            ms = [Metric(f"m{j % nk}", rng.random(), ts, b * spb + j // nk) for j in range(bs)]
            tb = time.perf_counter()
            client.log_batch(run, metrics=ms)
            per.append(time.perf_counter() - tb)
        dt = time.perf_counter() - t0
        got = len(client.get_metric_history(run, "m0").items)
        assert got == nb * spb, f"m0: expected {nb * spb}, got {got}"
        summ = {k: v for k, v in summarize_ms(per).items() if k != "samples_ms"}
        return {"points": nb * bs, "seconds": round(dt, 3), "points_per_s": round(nb * bs / dt, 1),
                "batch_call": summ}

    def w_c() -> dict[str, Any]:
        exp = new_exp("c")
        lrs, opts = ["0.1", "0.01", "0.001"], ["adam", "sgd", "rmsprop"]
        expected = 0
        n = sz["c_runs"]
        t0 = time.perf_counter()
        for i in range(n):
            run = client.create_run(exp, run_name=f"run-{i}").info.run_id
            lr = lrs[i % 3]
            acc = rng.random()
            if acc > 0.5 and lr == "0.01":
                expected += 1
            ts = now_ms()
            client.log_batch(
                run,
                metrics=[Metric("acc", acc, ts, 0), Metric("loss", 1.0 - acc + rng.random() * 0.1, ts, 0),
                         Metric("f1", acc * 0.9, ts, 0)],
                params={"lr": lr, "batch_size": str([16, 32, 64, 128][i % 4]),
                        "optimizer": opts[i % 3 if i % 2 else (i + 1) % 3], "epochs": str(10 + i % 5),
                        "seed": str(i)},
                tags={"team": f"team-{i % 4}", "stage": "bench"},
            )
        dt_pop = time.perf_counter() - t0
        samples, page = measure(lambda: client.search_runs([exp], filter_string=FILTER, order_by=ORDER,
                                                            max_results=100), sz["c_search_reps"])
        res = page.items
        assert len(res) == min(100, expected), f"filtered search returned {len(res)}, expected {expected}"
        accs = [r.data.metrics["acc"].value for r in res]
        assert accs == sorted(accs, reverse=True), "order_by metrics.acc DESC not respected"
        full, page = measure(lambda: client.search_runs([exp], max_results=1000), sz["c_full_reps"])
        assert len(page.items) == min(1000, n), f"unfiltered search returned {len(page.items)}"
        return {"runs": n, "populate_seconds": round(dt_pop, 3), "runs_per_s": round(n / dt_pop, 1),
                "calls_per_run": 2,
                "search_filtered": {"returned": len(res), "total_matching": expected} | summarize_ms(samples),
                "search_unfiltered_1000": {"returned": len(page.items)} | summarize_ms(full)}

    def w_d() -> dict[str, Any]:
        run = client.create_run(new_exp("d"), run_name="history").info.run_id
        ts = now_ms()
        for start in range(0, sz["d_steps"], 1000):
            client.log_batch(run, metrics=[Metric("hist", float(s), ts + s, s)
                                           for s in range(start, min(sz["d_steps"], start + 1000))])
        samples, page = measure(lambda: client.get_metric_history(run, "hist"), sz["d_reps"])
        assert len(page.items) == sz["d_steps"], f"history returned {len(page.items)}"
        return {"steps": sz["d_steps"], "returned": len(page.items)} | summarize_ms(samples)

    names = {"a": ("a_log_metric_single", w_a), "b": ("b_log_batch", w_b), "c": ("c_runs_search", w_c),
             "d": ("d_metric_history", w_d)}
    for key in only:
        name, fn = names[key]
        la = loadavg1()
        t = time.perf_counter()
        res = fn()
        res["wall_s"] = round(time.perf_counter() - t, 2)
        res["loadavg1_before_after"] = [la, loadavg1()]
        out["workloads"][name] = res
        log(f"stead {key} done in {res['wall_s']}s")
    client.close()
    return out


def stead_big(sz: dict[str, int], workdir: Path) -> dict[str, Any]:
    """Filtered, ordered search over ``big_runs`` runs, populated by bulk inserts."""
    from stead.store.tables import latest_metrics, metrics, params, runs, tags

    rng = random.Random(SEED)
    client = _stead_client(workdir)
    exp = client.create_experiment(f"bench-big-{uuid.uuid4().hex[:6]}")
    eid = int(exp)
    store = client.backend.store  # type: ignore[attr-defined]
    art = client.get_experiment(exp).artifact_location.rstrip("/")
    lrs, opts = ["0.1", "0.01", "0.001"], ["adam", "sgd", "rmsprop"]
    n, chunk = sz["big_runs"], 10_000
    expected = 0
    t0 = time.perf_counter()
    base = now_ms()
    for lo in range(0, n, chunk):
        R, T, P, M = [], [], [], []
        for i in range(lo, min(n, lo + chunk)):
            rid = uuid.uuid4().hex
            lr, acc = lrs[i % 3], rng.random()
            expected += acc > 0.5 and lr == "0.01"
            ts = base + i
            R.append({"run_uuid": rid, "experiment_id": eid, "name": f"run-{i}", "user_id": "bench",
                      "status": "RUNNING", "start_time": ts, "end_time": None, "lifecycle_stage": "active",
                      "artifact_uri": f"{art}/{rid}/artifacts", "parent_run_id": None,
                      "environment_hash": None})
            for k, val in (("mlflow.runName", f"run-{i}"), ("team", f"team-{i % 4}"), ("stage", "bench")):
                T.append({"run_uuid": rid, "key": k, "value": val})
            for k, val in (("lr", lr), ("batch_size", str([16, 32, 64, 128][i % 4])),
                           ("optimizer", opts[i % 3 if i % 2 else (i + 1) % 3]), ("epochs", str(10 + i % 5)),
                           ("seed", str(i))):
                P.append({"run_uuid": rid, "key": k, "value": val})
            for k, val in (("acc", acc), ("loss", 1.0 - acc + rng.random() * 0.1), ("f1", acc * 0.9)):
                M.append({"run_uuid": rid, "key": k, "value": val, "step": 0, "timestamp": ts})
        with store.write() as conn:
            conn.execute(runs.insert(), R)
            conn.execute(tags.insert(), T)
            conn.execute(params.insert(), P)
            conn.execute(metrics.insert(), M)
            conn.execute(latest_metrics.insert(), M)
    populate = time.perf_counter() - t0
    log(f"stead big: bulk-inserted {n} runs in {populate:.1f}s")
    samples, page = measure(lambda: client.search_runs([exp], filter_string=FILTER, order_by=ORDER,
                                                        max_results=100), sz["big_reps"])
    res = page.items
    assert len(res) == min(100, expected), f"big search returned {len(res)}, expected {expected}"
    accs = [r.data.metrics["acc"].value for r in res]
    assert accs == sorted(accs, reverse=True), "order_by metrics.acc DESC not respected"
    client.close()
    return {"runs": n, "populate": "bulk INSERTs into stead's tables (10,000 runs per transaction)",
            "populate_seconds": round(populate, 2), "total_matching": expected, "returned": len(res),
            "search_filtered": summarize_ms(samples)}


# ---------------------------------------------------------------------------------------
# orchestration
# ---------------------------------------------------------------------------------------
def find_mlflow_python(given: str | None) -> str:
    for cand in ([Path(given)] if given else MLFLOW_PYTHONS):
        if cand.exists():
            ok = subprocess.run([str(cand), "-c", "import mlflow"], capture_output=True).returncode == 0
            if ok:
                return str(cand)
    raise SystemExit(
        "No python with mlflow found (tried " + ", ".join(map(str, [given] if given else MLFLOW_PYTHONS)) +
        "). Create one: python3 -m venv /tmp/mlflowvenv && /tmp/mlflowvenv/bin/pip install mlflow==3.17.2"
    )


def run_mlflow(py: str, harness: Path, sz: dict[str, int], workdir: Path) -> dict[str, Any]:
    workdir.mkdir(parents=True)
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    env["PATH"] = str(Path(py).parent) + os.pathsep + env.get("PATH", "")
    cmd = [py, str(harness), "--uri", f"sqlite:///{workdir / 'mlflow.db'}",
           "--artifact-root", f"file://{workdir / 'artifacts'}", "--label", "mlflow-sqlite",
           "--outdir", str(workdir / "out"), "--only", "abcd", "--seed", str(SEED)]
    for k in ("a_points", "b_batches", "b_batch_size", "b_keys", "c_runs", "c_search_reps", "c_full_reps",
              "d_steps", "d_reps"):
        cmd += ["--" + k.replace("_", "-"), str(sz[k])]
    return run_json(cmd, env=env, stderr_path=str(workdir / "stderr.log"))


def run_stead(sz: dict[str, int], workdir: Path, mode: str) -> dict[str, Any]:
    workdir.mkdir(parents=True)
    cmd = [sys.executable, __file__, "--worker", mode, "--workdir", str(workdir), "--sizes", json.dumps(sz)]
    return run_json(cmd, stderr_path=str(workdir / "stderr.log"))


def rows_for(sz: dict[str, int]) -> list[tuple[str, tuple[str, ...], bool]]:
    """Table rows: label (with this invocation's sizes), path into the workloads, higher is better."""
    return [
        ("log_metric, 1 call/point (points/s)", ("a_log_metric_single", "points_per_s"), True),
        (f"log_batch {sz['b_batches']}x{sz['b_batch_size']:,} (points/s)", ("b_log_batch", "points_per_s"), True),
        ("create runs, 5 params/3 metrics/2 tags (runs/s)", ("c_runs_search", "runs_per_s"), True),
        (f"filtered+ordered search, 100 of {sz['c_runs']:,} runs, p50 (ms)",
         ("c_runs_search", "search_filtered", "p50_ms"), False),
        (f"unfiltered search, {min(1000, sz['c_runs']):,} runs, p50 (ms)",
         ("c_runs_search", "search_unfiltered_1000", "p50_ms"), False),
        (f"metric history, {sz['d_steps']:,} steps, p50 (ms)", ("d_metric_history", "p50_ms"), False),
    ]


def dig(d: dict[str, Any], path: tuple[str, ...]) -> float | None:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mlflow-python", help="python of a virtualenv with mlflow==3.17.2 "
                    "(default: .venv-mlflow/bin/python, then /tmp/mlflowvenv/bin/python)")
    ap.add_argument("--harness", default=str(DEFAULT_HARNESS), help="the shared MLflow harness")
    ap.add_argument("--quick", action="store_true", help="small sizes, one repetition: a smoke run")
    ap.add_argument("--reps", type=int, help="repetitions of each side (default 3; 1 with --quick)")
    ap.add_argument("--big-runs", type=int, help="runs for the stead-only big search (default 100000)")
    ap.add_argument("--skip-mlflow", action="store_true", help="stead only (no ratios)")
    ap.add_argument("--skip-big", action="store_true", help="skip the 100,000-run search")
    ap.add_argument("--out", help="write all results (every repetition, medians) as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the databases (path printed)")
    ap.add_argument("--worker", choices=["stead", "stead-big"], help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        sz = json.loads(args.sizes)
        wd = Path(args.workdir)
        res = stead_worker(sz, wd, "abcd") if args.worker == "stead" else stead_big(sz, wd)
        print(json.dumps(res))
        return

    sz = dict(QUICK if args.quick else FULL)
    if args.reps:
        sz["reps"] = args.reps
    if args.big_runs:
        sz["big_runs"] = args.big_runs
    mlpy = None if args.skip_mlflow else find_mlflow_python(args.mlflow_python)
    harness = Path(args.harness)
    root = Path(tempfile.mkdtemp(prefix="stead-bench-tracking-"))
    result: dict[str, Any] = {
        "command": " ".join([os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd())
                            else sys.executable, *sys.argv]),
        "machine": machine_note(), "sizes": sz, "mlflow_python": mlpy, "reps": [],
    }
    if mlpy:
        result["mlflow_version"] = subprocess.run([mlpy, "-c", "import mlflow;print(mlflow.__version__)"],
                                                  capture_output=True, text=True).stdout.strip()
    log(f"working in {root}; sizes {sz}")
    try:
        for rep in range(sz["reps"]):
            order = ["mlflow", "stead"] if rep % 2 == 0 else ["stead", "mlflow"]
            entry: dict[str, Any] = {"order": order}
            for side in order:
                if side == "mlflow" and not mlpy:
                    continue
                with Timer() as t:
                    if side == "mlflow":
                        entry["mlflow"] = run_mlflow(mlpy, harness, sz, root / f"mlflow-{rep}")  # type: ignore[arg-type]
                    else:
                        entry["stead"] = run_stead(sz, root / f"stead-{rep}", "stead")
                log(f"rep {rep + 1}/{sz['reps']}: {side} done in {t.s:.1f}s")
            result["reps"].append(entry)

        imp: dict[str, Any] = {"stead": import_time(sys.executable, "stead", sz["import_reps"])}
        if mlpy:
            env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
            imp["mlflow"] = import_time(mlpy, "mlflow", sz["import_reps"], env=env)
        result["import"] = imp
        log(f"import: {imp}")

        if not args.skip_big:
            with Timer() as t:
                result["big"] = run_stead(sz, root / "stead-big", "stead-big")
            log(f"big search done in {t.s:.1f}s")
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    # ---- table ----
    rows, summary = [], []
    for label, path, hib in rows_for(sz):
        m = median(dig(r["mlflow"]["workloads"], path) for r in result["reps"] if "mlflow" in r)
        s = median(dig(r["stead"]["workloads"], path) for r in result["reps"] if "stead" in r)
        x = ratio(m, s, hib)
        ok = None if x is None else x >= 10
        summary.append({"workload": label, "mlflow": m, "stead": s, "ratio": x, "meets_10x": ok})
        rows.append([label, fmt_num(m), fmt_num(s), "–" if x is None else f"{x:.1f}x",
                     "≥10x " + ("✓" if ok else "✗" if ok is not None else "")])
    imp = result["import"]
    si = imp["stead"]["median_s"]
    mi = imp.get("mlflow", {}).get("median_s")
    summary.append({"workload": "import (s)", "mlflow": mi, "stead": si, "ratio": ratio(mi, si, False),
                    "meets_target": si < 0.3})
    rows.append(["`import stead` / `import mlflow` (s, fresh process)", fmt_num(mi), f"{si:.3f}",
                 "–" if mi is None else f"{mi / si:.1f}x", "< 0.3 s " + ("✓" if si < 0.3 else "✗")])
    if "big" in result:
        bp = result["big"]["search_filtered"]["p50_ms"]
        summary.append({"workload": "big search p50 (ms)", "stead": bp, "meets_target": bp < 50})
        rows.append([f"filtered+ordered search, 100 of {result['big']['runs']:,} runs, p50 (ms)", "–",
                     fmt_num(bp), "–", "< 50 ms " + ("✓" if bp < 50 else "✗")])
    result["summary"] = summary
    a = [r["stead"]["workloads"]["a_log_metric_single"] for r in result["reps"] if "stead" in r]
    print()
    import stead

    print(f"stead {stead.__version__} vs MLflow {result.get('mlflow_version', '-')}, "
          f"both on embedded SQLite; median of {sz['reps']} alternating repetitions; "
          f"{result['machine']['cpus']} CPUs, load {result['machine']['loadavg1']} at start")
    print_table(["workload", "MLflow", "stead", "ratio", "target"], rows)
    print(f"\nstead log_metric = {sz['a_points']} calls + final flush() (durable); "
          f"calls alone {median(x['calls_only_s'] for x in a):.4f}s, flush {median(x['flush_s'] for x in a):.4f}s "
          f"(medians).")
    if "big" in result:
        print(f"big search: {result['big']['runs']:,} runs populated by {result['big']['populate']} "
              f"in {result['big']['populate_seconds']}s; {result['big']['total_matching']:,} match the filter.")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

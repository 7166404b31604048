#!/usr/bin/env python
"""stead pipelines vs Prefect, side by side in one run (the workload of shared/bench/pipelines).

  .venv/bin/python bench/bench_pipelines.py [--reps 3] [--prefect-python /tmp/prefectvenv/bin/python]

Workloads: 200 chained no-op steps, a fan-out of 200 (+ one fan-in), the fully cached
re-run of 50 chained steps, and the 200-step script as a whole process from the shell.
stead runs in a temp STEAD_HOME (SQLite + local folder, the embedded defaults); Prefect in
its default ephemeral mode with PREFECT_HOME in a temp folder, telemetry off. Prints a
table with per-step overheads and the ratios; --json prints the raw numbers too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFECT_BENCH = Path(os.environ.get("STEAD_SHARED", HERE.parent.parent / "shared")) / "bench" / "pipelines" / "bench_prefect.py"
N_SEQ, N_FAN, N_CACHE = 200, 200, 50

PIPELINES = """
import stead.pipelines as sp

@sp.step
def inc(x: int, salt: str) -> int:
    return x + 1

@sp.step
def total(xs: list) -> int:
    return sum(xs)

@sp.pipeline
def seq(n: int = 200, salt: str = ""):
    x = 0
    for _ in range(n):
        x = inc(x, salt)

@sp.pipeline
def fan(n: int = 200, salt: str = ""):
    total([inc(i, salt) for i in range(n)])
"""

SCRIPT = """
import sys, time, uuid
t0 = time.perf_counter()
sys.path.insert(0, {folder!r})
import bench_stead_pipes as p
from stead.pipelines import run_pipeline
run = run_pipeline(p.seq, {{"n": 200, "salt": uuid.uuid4().hex}})
assert run.status == "SUCCEEDED", run.error
print(time.perf_counter() - t0)
"""


def _stead(reps: int, workdir: Path) -> dict[str, object]:
    sys.path.insert(0, str(workdir))
    (workdir / "bench_stead_pipes.py").write_text(textwrap.dedent(PIPELINES))
    os.environ["STEAD_HOME"] = str(workdir / "home")
    import bench_stead_pipes as p  # noqa: E402

    from stead.config import load_settings
    from stead.pipelines import run_pipeline
    from stead.pipelines.store import open_pipeline_store

    settings = load_settings()
    open_pipeline_store(settings)  # migrations once, as on any machine after the first run
    run_pipeline(p.seq, {"n": 5, "salt": "warm"}, settings=settings)

    def timed(pipeline, params):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        run = run_pipeline(pipeline, params, settings=settings)
        elapsed = time.perf_counter() - t
        assert run.status == "SUCCEEDED", run.error
        return elapsed, run

    out: dict[str, list[float]] = {"seq": [], "fan": [], "cache_cold": [], "cache_hit": []}
    for _ in range(reps):
        out["seq"].append(timed(p.seq, {"n": N_SEQ, "salt": uuid.uuid4().hex})[0])
        out["fan"].append(timed(p.fan, {"n": N_FAN, "salt": uuid.uuid4().hex})[0])
        salt = uuid.uuid4().hex
        out["cache_cold"].append(timed(p.seq, {"n": N_CACHE, "salt": salt})[0])
        elapsed, run = timed(p.seq, {"n": N_CACHE, "salt": salt})
        assert all(s.cache_hit for s in run.steps)
        out["cache_hit"].append(elapsed)
    shell = []
    script = workdir / "bench_stead_script.py"
    script.write_text(SCRIPT.format(folder=str(workdir)))
    env = {**os.environ, "STEAD_HOME": str(workdir / "home")}
    for _ in range(3):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
        shell.append(time.perf_counter() - t)
        assert proc.returncode == 0, proc.stderr
    return {k: v for k, v in out.items()} | {"shell_seq200": shell}


def _prefect(python: str, reps: int) -> dict[str, object] | None:
    if not Path(python).exists() or not PREFECT_BENCH.exists():
        return None
    home = tempfile.mkdtemp(prefix="prefect-home-")
    env = {**os.environ, "PREFECT_HOME": home, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    for key in ("PREFECT_API_URL", "PREFECT_API_KEY"):
        env.pop(key, None)
    full = subprocess.run([python, str(PREFECT_BENCH), "--reps", str(reps)], capture_output=True, text=True, env=env)
    if full.returncode != 0:
        print(full.stderr[-2000:], file=sys.stderr)
        return None
    result = json.loads(full.stdout)
    shell = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([python, str(PREFECT_BENCH), "--mode", "seq-only"], capture_output=True, env=env, check=True)
        shell.append(time.perf_counter() - t)
    result["shell_seq200"] = shell
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--prefect-python", default="/tmp/prefectvenv/bin/python")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="stead-bench-") as tmp:
        stead = _stead(args.reps, Path(tmp))
    prefect = _prefect(args.prefect_python, args.reps)
    med = statistics.median

    rows = []

    def add(label: str, n: int, ours: list[float], theirs: float | None) -> None:
        s = med(ours)
        rows.append((label, n, s, s / n * 1e3, theirs, theirs / n * 1e3 if theirs else None,
                     theirs / s if theirs else None))

    pf = (prefect or {}).get("flows", {})  # type: ignore[union-attr]
    pwall = lambda k: pf[k]["wall_median_s"] if k in pf else None  # noqa: E731
    add("200 chained steps", N_SEQ, stead["seq"], pwall("seq"))  # type: ignore[arg-type]
    add("fan-out 200 (+fan-in)", N_FAN, stead["fan"], pwall("fan_submit"))  # type: ignore[arg-type]
    add("50 steps, all cached", N_CACHE, stead["cache_hit"], pwall("cache_hit"))  # type: ignore[arg-type]
    add("50 steps, cold cache", N_CACHE, stead["cache_cold"], pwall("cache_cold"))  # type: ignore[arg-type]
    shell_prefect = med(prefect["shell_seq200"]) if prefect else None  # type: ignore[index,arg-type]
    add("200-step script, shell", N_SEQ, stead["shell_seq200"], shell_prefect)  # type: ignore[arg-type]

    print(f"{'workload':26} {'stead s':>9} {'ms/step':>8} {'prefect s':>10} {'ms/step':>8} {'ratio':>7}")
    for label, _n, s, sper, p, pper, ratio in rows:
        fmt = lambda v, f: (f % v) if v is not None else "-"  # noqa: E731
        print(f"{label:26} {s:9.3f} {sper:8.3f} {fmt(p, '%10.3f'):>10} {fmt(pper, '%8.3f'):>8} {fmt(ratio, '%6.1fx'):>7}")
    if prefect is None:
        print("(Prefect not measured: create /tmp/prefectvenv with `pip install prefect 'fastapi==0.154.0'`)")
    print(f"targets: per-step overhead >= 20x below Prefect; cached 50-step run < 0.2 s "
          f"(now {med(stead['cache_hit']):.3f} s); 200-step script from the shell < 1.5 s "  # type: ignore[arg-type]
          f"(now {med(stead['shell_seq200']):.3f} s)")  # type: ignore[arg-type]
    if args.json:
        print(json.dumps({"stead": stead, "prefect": prefect}, indent=1, default=str))


if __name__ == "__main__":
    main()

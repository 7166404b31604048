#!/usr/bin/env python
"""Data drift: stead's reference statistics + drift check, optionally beside Evidently.

    python bench/bench_drift.py [--quick] [--evidently /tmp/evvenv/bin/python] [--work DIR]

Writes Parquet files in a temporary folder (reference and current, numeric columns from
normal, log-normal and uniform laws, string categories, a third of the columns shifted in
the current file), then times in a fresh process per tool and workload:

- stead: ``compute_reference(reference.parquet)`` and ``detect_drift(stats, current.parquet)``,
  each reading one column at a time, plus the process's peak resident memory;
- Evidently (with ``--evidently PYTHON``, an interpreter with evidently and pandas): reading
  both files into pandas and running a ``Report`` with ``DataDriftPreset``.

Workloads: 10,000,000 rows x 20 numeric (target: stead under 10 s within 2 GB) and
1,000,000 rows x 50 numeric + 10 categorical (target: stead >= 20x faster than Evidently,
<= 1/5 of its peak memory). ``--quick`` divides the rows by 10.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import log, machine_note, print_table, ratio, run_json

WORKLOADS = [("10M x 20 numeric", 10_000_000, 20, 0), ("1M x 50 numeric + 10 categorical", 1_000_000, 50, 10)]
ROW_GROUP = 1_000_000


def gen(path: Path, rows: int, n_num: int, n_cat: int, *, shifted: bool, seed: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, ROW_GROUP):
        n = min(ROW_GROUP, rows - start)
        cols = {}
        for i in range(n_num):
            moved = shifted and i % 3 == 0
            law = i % 3
            if law == 0:
                cols[f"n{i}"] = rng.normal(0.5 if moved else 0.0, 1.0, n)
            elif law == 1:
                cols[f"n{i}"] = rng.lognormal(0.0, 1.0, n)
            else:
                cols[f"n{i}"] = rng.uniform(0, 10, n)
        for j in range(n_cat):
            k = 5 + 5 * (j % 5)
            p = np.linspace(1.0, 2.0, k)
            if shifted and j % 3 == 0:
                p = p[::-1]
            codes = rng.choice(k, n, p=p / p.sum())
            cols[f"c{j}"] = pa.DictionaryArray.from_arrays(codes.astype(np.int32), [f"v{v}" for v in range(k)])
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_stead(ref: str, cur: str) -> dict:
    from stead.monitoring import compute_reference, detect_drift

    t0 = time.perf_counter()
    stats = compute_reference(ref)
    t1 = time.perf_counter()
    report = detect_drift(stats, cur)
    t2 = time.perf_counter()
    return {"reference_s": t1 - t0, "drift_s": t2 - t1, "total_s": t2 - t0, "peak_mb": peak_mb(),
            "drifted": report.drifted_features, "tested": report.tested_features,
            "reference_kb": len(json.dumps(stats.to_json())) / 1024}


EVIDENTLY = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
t0 = time.perf_counter()
ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
for df in (ref, cur):
    for c in df.columns:
        if str(df[c].dtype) == "category":
            df[c] = df[c].astype(str)
t1 = time.perf_counter()
try:
    from evidently import Report
    from evidently.presets import DataDriftPreset
    snap = Report([DataDriftPreset()]).run(cur, ref)
    out = snap.dict()
except ImportError:
    from evidently.report import Report
    from evidently.metric_preset import DataDriftPreset
    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=ref, current_data=cur)
    out = report.as_dict()
t2 = time.perf_counter()
print(json.dumps({"read_s": t1 - t0, "drift_s": t2 - t1, "total_s": t2 - t0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a tenth of the rows")
    ap.add_argument("--evidently", metavar="PYTHON", help="an interpreter with evidently installed")
    ap.add_argument("--work", help="folder for the generated files (default: a new temporary folder)")
    ap.add_argument("--only", type=int, choices=[0, 1], help="run one workload (0 or 1)")
    ap.add_argument("--worker", choices=["stead"], help=argparse.SUPPRESS)
    ap.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker_stead(*args.files)))
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="stead-bench-drift-"))
    work.mkdir(parents=True, exist_ok=True)
    rows_out, results = [], []
    try:
        for i, (label, rows, n_num, n_cat) in enumerate(WORKLOADS):
            if args.only is not None and args.only != i:
                continue
            rows = rows // 10 if args.quick else rows
            label = label.replace("10M", "1M").replace("1M x 50", "100k x 50") if args.quick else label
            ref, cur = work / f"ref{i}.parquet", work / f"cur{i}.parquet"
            log(f"{label}: writing {rows:,} rows twice")
            gen(ref, rows, n_num, n_cat, shifted=False, seed=1)
            gen(cur, rows, n_num, n_cat, shifted=True, seed=2)
            log(f"{label}: stead")
            st = run_json([sys.executable, __file__, "--worker", "stead", str(ref), str(cur)])
            ev = None
            if args.evidently:
                log(f"{label}: evidently")
                ev = run_json([args.evidently, "-c", EVIDENTLY, str(ref), str(cur)],
                              stderr_path=str(work / f"evidently{i}.log"))
            results.append({"workload": label, "stead": st, "evidently": ev})
            rows_out.append([label, f"{st['reference_s']:.2f} + {st['drift_s']:.2f} = {st['total_s']:.2f} s",
                             f"{st['peak_mb']:,.0f} MB", f"{st['drifted']}/{st['tested']}",
                             "–" if ev is None else f"{ev['total_s']:.1f} s, {ev['peak_mb']:,.0f} MB",
                             "–" if ev is None else f"{ratio(ev['total_s'], st['total_s'], False):.1f}x"])
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print_table(["workload", "stead reference + drift", "stead peak RSS", "drifted", "Evidently", "speed-up"],
                rows_out)
    print(json.dumps({"machine": machine_note(), "results": results}, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()

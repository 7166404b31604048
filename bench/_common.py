"""Shared helpers for stead's benchmarks: timing, percentiles, subprocess workers, tables.

Standard library only, so every benchmark (and every virtualenv a competitor runs in) can
import it. The machines these run on are shared and noisy: run stead and the competitor
alternately in one invocation and compare medians and ratios, not absolute figures.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "Timer",
    "pct",
    "median",
    "summarize_ms",
    "loadavg1",
    "machine_note",
    "run_json",
    "import_time",
    "ratio",
    "fmt_num",
    "print_table",
    "log",
]


class Timer:
    """``with Timer() as t: ...`` then ``t.s`` (seconds, perf_counter)."""

    def __enter__(self) -> "Timer":
        self._t0 = time.perf_counter()
        self.s = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = time.perf_counter() - self._t0


def pct(values: Iterable[float], p: float) -> float | None:
    """Nearest-rank percentile, p in 0..100 (the same as ../shared/bench's harness)."""
    s = sorted(values)
    if not s:
        return None
    k = max(1, math.ceil(p / 100.0 * len(s)))
    return s[k - 1]


def median(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def summarize_ms(samples_s: Sequence[float]) -> dict[str, Any]:
    """p50/p95/min/max in ms of samples in seconds; same keys as the shared MLflow harness."""
    ms = [x * 1000.0 for x in samples_s]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(pct(ms, 95) or 0.0, 2),
        "min_ms": round(min(ms), 2),
        "max_ms": round(max(ms), 2),
        "samples_ms": [round(x, 2) for x in ms],
    }


def loadavg1() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine_note() -> dict[str, Any]:
    """Where and when: enough to tell two result files apart."""
    mem = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "mem_gib": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg1": loadavg1(),
    }


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_json(cmd: Sequence[str], *, env: dict[str, str] | None = None, timeout: float | None = None,
             stderr_path: str | None = None) -> dict[str, Any]:
    """Run a worker that prints one JSON object on stdout (anything before its first '{' is
    ignored); its stderr goes to ``stderr_path`` (or ours). Raises with the tail on failure."""
    err = open(stderr_path, "w") if stderr_path else None
    try:
        proc = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=err, text=True, env=env,
                              timeout=timeout, check=False)
    finally:
        if err:
            err.close()
    if proc.returncode != 0:
        tail = ""
        if stderr_path and os.path.exists(stderr_path):
            with open(stderr_path) as f:
                tail = f.read()[-3000:]
        raise RuntimeError(f"{cmd[0]} {' '.join(cmd[1:3])} ... exited {proc.returncode}\n{tail}")
    out = proc.stdout
    start = out.find("{")
    if start < 0:
        raise RuntimeError(f"worker printed no JSON: {out[-2000:]!r}")
    return json.loads(out[start:])


def import_time(python: str, module: str, reps: int = 7, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Seconds to ``import module`` in a fresh interpreter each time (the interpreter's own
    start-up excluded; measured inside it with perf_counter). Median of ``reps``."""
    code = (
        "import time,sys;t=time.perf_counter();import " + module +
        ";sys.stdout.write(repr(time.perf_counter()-t))"
    )
    samples = []
    for _ in range(reps):
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, check=True)
        samples.append(float(out.stdout.strip()))
    return {"median_s": round(statistics.median(samples), 4), "samples_s": [round(s, 4) for s in samples]}


def ratio(competitor: float | None, stead: float | None, higher_is_better: bool) -> float | None:
    """How many times better stead is (>1 means stead wins), whichever way the metric points."""
    if not competitor or not stead:
        return None
    return stead / competitor if higher_is_better else competitor / stead


def fmt_num(x: float | None, unit: str = "") -> str:
    if x is None:
        return "–"
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], file: Any = None,
                markdown: bool = True) -> str:
    """A markdown table (also readable as plain text); returns it as well as printing it."""
    file = file or sys.stdout
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    out = [line(headers)]
    if markdown:
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += [line(r) for r in rows]
    text = "\n".join(out)
    print(text, file=file, flush=True)
    return text


def measure(fn: Callable[[], Any], reps: int) -> tuple[list[float], Any]:
    """Call ``fn`` ``reps`` times; the list of durations in seconds and the last result."""
    samples, last = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        last = fn()
        samples.append(time.perf_counter() - t0)
    return samples, last


__all__.append("measure")

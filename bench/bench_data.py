#!/usr/bin/env python
"""Data versioning: stead side by side with DVC on the workload of shared/bench/data.

    python bench/bench_data.py [--dvc /tmp/dvcvenv/bin/dvc] [--work /tmp/steadbench] [--runs 2]

Generates 1,000 x 1 MiB and 20,000 x 4 KiB random files, then times with the real CLIs
(wall clock of a subprocess, page cache warm as in the DVC reference): cold ``add`` of
each folder, ``status`` with one file changed in each, ``add`` again, ``push`` to a local
folder remote and ``pull`` into a fresh git clone. Prints a markdown table with the ratio
DVC / stead (higher is better for stead), plus physical references (``cat`` and ``cp -r``
of the 1 GiB folder, timed in each run just before that tool's add; ``b3sum`` once) and
an in-process timing of stead's status (without interpreter and CLI start-up). With
``--runs N`` each tool runs N times from scratch, alternating which goes first (stead, DVC,
then DVC, stead, ...), and the table shows medians: the machines are shared and noisy.

Nothing is deleted while anything is timed. Every run works in folders of its own under a
folder new to this invocation, and all of them (and what earlier invocations left) are
removed at the end: on the ext4 disks of these machines (mounted with ``discard``),
creating files in the minutes after some 20,000 others were deleted costs five to eight
times more (20,000 creates of 4 KiB: ~0.8 s on a quiet disk, 4-6 s after a delete), so
each tool's cold ``add`` would pay for the previous run's clean-up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

STEAD = [sys.executable, "-m", "stead.cli"]


def sh(cmd: list[str] | str, cwd: Path, env: dict[str, str], check: bool = True) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, shell=isinstance(cmd, str), capture_output=True, text=True)
    wall = time.perf_counter() - t
    if check and r.returncode != 0:
        raise SystemExit(f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return wall


def gen(data: Path) -> None:
    (data / "big").mkdir(parents=True)
    (data / "small").mkdir(parents=True)
    for i in range(1000):
        (data / "big" / f"f{i:04d}.bin").write_bytes(os.urandom(1 << 20))
    for i in range(20000):
        (data / "small" / f"f{i:05d}.bin").write_bytes(os.urandom(4096))


def modify(repo: Path) -> None:
    (repo / "data/big/f0500.bin").write_bytes(os.urandom(1 << 20))
    (repo / "data/small/f10000.bin").write_bytes(os.urandom(4096))


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=b@b", *args], cwd=repo, check=True,
                   capture_output=True)


def run_tool(tool: str, work: Path, seed: Path, env: dict[str, str], dvc: str) -> dict[str, float]:
    repo, remote, clone = work / tool, work / f"{tool}-remote", work / f"{tool}-clone"
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    shutil.copytree(seed, repo / "data")
    subprocess.run("sync", shell=True)
    t: dict[str, float] = {}
    # The physical reference, taken beside each add: how fast this disk writes varies a lot
    # from minute to minute on these machines, so a reference taken once is no yardstick.
    t["ref: cat 1 GiB"] = sh("cat data/big/* > /dev/null", repo, env)
    t["ref: cp 1 GiB"] = sh(f"cp -r data/big {work / f'{tool}-cpref'}", repo, env)
    subprocess.run("sync", shell=True)
    if tool == "dvc":
        sh([dvc, "init", "-q"], repo, env)
        sh([dvc, "config", "core.analytics", "false"], repo, env)
        cmd = {
            "add": lambda p: [dvc, "add", "-q", p],
            "status": [dvc, "status"],
            "push": [dvc, "push", "-q"],
            "pull": [dvc, "pull", "-q"],
            "remote": [dvc, "remote", "add", "-q", "-d", "local", str(remote)],
        }
        pointers = ["data/big.dvc", "data/small.dvc", "data/.gitignore", ".dvc"]
    else:
        cmd = {
            "add": lambda p: [*STEAD, "data", "add", "-q", "--no-profile", p],
            "status": [*STEAD, "data", "status"],
            "push": [*STEAD, "data", "push", "--json"],
            "pull": [*STEAD, "data", "pull", "--json"],
            "remote": [*STEAD, "remote", "add", "origin", str(remote)],
        }
        pointers = ["data/big.stead", "data/small.stead", "data/.gitignore"]
    t["add 1 GiB (1,000 files), cold"] = sh(cmd["add"]("data/big"), repo, env)
    t["add 20,000 x 4 KiB, cold"] = sh(cmd["add"]("data/small"), repo, env)
    git(repo, "add", *pointers)
    git(repo, "commit", "-qm", "data")
    t["status, clean"] = sh(cmd["status"], repo, env)
    modify(repo)
    t["status, one file changed in each"] = sh(cmd["status"], repo, env)
    t["add 1 GiB again (one file changed)"] = sh(cmd["add"]("data/big"), repo, env)
    t["add 20,000 again (one file changed)"] = sh(cmd["add"]("data/small"), repo, env)
    git(repo, "commit", "-qam", "changed")
    sh(cmd["remote"], repo, env)
    if tool == "dvc":
        git(repo, "add", ".dvc/config")
        git(repo, "commit", "-qm", "remote")
    t["push to a local remote"] = sh(cmd["push"], repo, env)
    t["push again (nothing to do)"] = sh(cmd["push"], repo, env)
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    if tool == "stead":
        sh(cmd["remote"], clone, env)
    t["pull into a fresh clone"] = sh(cmd["pull"], clone, env)
    for rel in ("data/big/f0500.bin", "data/small/f10000.bin", "data/small/f00000.bin"):
        assert (clone / rel).read_bytes() == (repo / rel).read_bytes(), f"{tool}: clone differs at {rel}"
    if tool == "stead":
        code = ("import time,stead.data as d;from stead.config import load_settings as l;s=l();d.status(settings=s);"
                "t=time.perf_counter();d.status(settings=s);print(time.perf_counter()-t)")
        out = subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, check=True)
        t["status in-process (21,000 files, warm)"] = float(out.stdout.strip())
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dvc", default="/tmp/dvcvenv/bin/dvc")
    ap.add_argument("--work", default="/tmp/steadbench")
    ap.add_argument("--runs", type=int, default=1, help="runs of each tool; the table shows medians")
    args = ap.parse_args()
    top = Path(args.work)
    work = top / time.strftime("%Y%m%d-%H%M%S")
    seed = work / "seed"
    gen(seed)
    subprocess.run("sync", shell=True)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_GLOBAL_CONFIG_DIR": str(work / "dvc-global"),
           "DVC_SITE_CACHE_DIR": str(work / "dvc-site"), "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    env.pop("STEAD_HOME", None)
    env.pop("STEAD_STORE_URL", None)
    refs = {
        "b3sum 1 GiB": sh(f"b3sum {seed}/big/* > /dev/null", work, env, check=False) if shutil.which("b3sum") else float("nan"),
    }
    runs: dict[str, list[dict[str, float]]] = {"stead": [], "dvc": []}
    try:
        for i in range(args.runs):
            for tool in ("stead", "dvc") if i % 2 == 0 else ("dvc", "stead"):
                runs[tool].append(run_tool(tool, work / f"run{i + 1}", seed, env, args.dvc))
                print(f"run {i + 1} {tool}: {runs[tool][-1]}, load {os.getloadavg()}", file=sys.stderr)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    stead, dvc = ({k: statistics.median(r[k] for r in rs) for k in rs[0]} for rs in (runs["stead"], runs["dvc"]))
    print(f"\nruns per tool: {args.runs} (medians); load average at the end: {os.getloadavg()}, cores: {os.cpu_count()}\n")
    print("| step | DVC s | stead s | DVC / stead |")
    print("|---|---:|---:|---:|")
    for step, s in stead.items():
        d = dvc.get(step)
        ratio = f"{d / s:.1f}x" if d and not step.startswith("ref:") else ""
        print(f"| {step} | {d:.2f} | {s:.3f} | {ratio} |" if d else f"| {step} | - | {s:.3f} | |")
    print("\n| reference | s |\n|---|---:|")
    for k, v in refs.items():
        print(f"| {k} | {v:.2f} |")
    adds = [r["add 1 GiB (1,000 files), cold"] / (r["ref: cat 1 GiB"] + r["ref: cp 1 GiB"]) for r in runs["stead"]]
    print(f"\nstead add 1 GiB / (cat + cp just before it) = {statistics.median(adds):.2f} (per run: "
          f"{', '.join(f'{a:.2f}' for a in adds)}; target <= 3)")


if __name__ == "__main__":
    main()

"""Many processes on one SQLite store, and SIGKILL after flush: nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from stead.config import Settings
from stead.tracking.client import TrackingClient

WRITER = textwrap.dedent(
    """
    import sys
    from stead.config import Settings
    from stead.tracking.client import TrackingClient
    home, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    client = TrackingClient(Settings(home=__import__("pathlib").Path(home)))
    eid = client.resolve_experiment("load", create=True).experiment_id
    run = client.create_run(eid, run_name=f"w{worker}")
    client.log_param(run.run_id, "worker", worker)
    for i in range(n):
        client.log_metric(run.run_id, "x", float(i), step=i)
        if i % 97 == 0:
            client.set_tag(run.run_id, "progress", str(i))
    client.set_terminated(run.run_id)
    print(run.run_id)
    """
)


def test_eight_processes_lose_nothing(tmp_path: Path):
    n = 2000
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(w), str(n)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(8)
    ]
    run_ids = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "Traceback" not in err
        run_ids.append(out.strip())
    client = TrackingClient(Settings(home=tmp_path))
    for run_id in run_ids:
        history = client.get_metric_history(run_id, "x").items
        assert [p.step for p in history] == list(range(n))
        assert client.get_run(run_id).info.status.value == "FINISHED"
    client.close()


KILLED = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from stead.config import Settings
    from stead.tracking.client import TrackingClient
    client = TrackingClient(Settings(home=Path(sys.argv[1])))
    run = client.create_run("0")
    for i in range(5000):
        client.log_metric(run.run_id, "x", float(i), step=i)
    client.flush()
    print(run.run_id, flush=True)
    for i in range(5000, 6000):
        client.log_metric(run.run_id, "x", float(i), step=i)  # never flushed
    sys.stdin.read()  # wait here until killed
    """
)


def test_sigkill_after_flush_loses_nothing_flushed(tmp_path: Path):
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    client = TrackingClient(Settings(home=tmp_path))
    steps = [p.step for p in client.get_metric_history(run_id, "x").items]
    assert steps[:5000] == list(range(5000))
    client.close()

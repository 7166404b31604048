"""Two real ``stead server`` processes (monitors on) on one metadata store run each period of a
monitor once between them: a monitor checked every second, both replicas' schedulers waking
when it is due and racing to claim it, and after several periods every period has exactly one
``monitor_runs`` row. On PostgreSQL (the replicas' case) and on one SQLite file shared by the
two processes."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from churn_project import Project, make_project  # noqa: E402
from server_process import free_port, run_server  # noqa: E402

pytestmark = pytest.mark.slow
PERIODS = 6


@contextmanager
def _replica(project: Project, name: str) -> Iterator[str]:
    """One ``stead server`` replica (its scheduler on) on the project's store and artifacts."""
    port = free_port()
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "server", "--port", str(port),
            "--store-url", project.store_url, "--artifacts-url", str(project.artifacts)]
    with run_server(argv, port, {**project.env(), "STEAD_TRACKING_URI": ""},
                    log_path=project.root / f"{name}.log") as url:
        yield url


def test_two_replicas_run_each_period_of_a_monitor_once(tmp_path: Path, store_url: str) -> None:
    from stead.monitoring import create_monitor, get_monitor, list_monitor_runs
    from stead.monitoring import references
    from stead.registry.service import Registry
    from stead.serving.deployments import Deployments, Variant
    from stead.store import open_store

    project = make_project(tmp_path / "proj", store_url)
    store = open_store(store_url)
    try:
        Deployments(store).create("replicated", [Variant("primary", "churn@production", 100)])
        version = references.resolve_version(Registry(store, str(project.artifacts)), "churn@production")
        references.ensure(store, version, settings=project.settings())  # made once here, read by every run
        with ExitStack() as stack:
            for name in ("replica-a", "replica-b"):
                stack.enter_context(_replica(project, name))
            made = create_monitor(store, "every-second", "replicated", every="1s", window="10m")
            deadline = time.monotonic() + 120
            while len(list_monitor_runs(store, "every-second", limit=1000)) < PERIODS:
                assert time.monotonic() < deadline, f"fewer than {PERIODS} runs in 120 s"
                time.sleep(0.2)
        # both replicas stopped: nothing runs now
        runs = list_monitor_runs(store, "every-second", limit=1000)
        assert len(runs) >= PERIODS
        # a run's time is the moment its period was claimed; the period is
        # [next_due + k s, next_due + (k + 1) s) from the monitor's first due time
        periods = Counter((run.time - made.next_due) // 1000 for run in runs)
        assert [p for p, n in periods.items() if n > 1] == [], sorted(periods.items())
        assert all(run.time >= made.next_due for run in runs)
        assert {run.status for run in runs} == {"no_data"}, [run.summary["message"] for run in runs]
        assert get_monitor(store, "every-second").next_due > max(run.time for run in runs)
        for name in ("replica-a", "replica-b"):
            log = (project.root / f"{name}.log").read_text()
            assert "Traceback" not in log, log[-3000:]
    finally:
        store.dispose()

"""The loop, end to end, against real processes: a ``stead server`` (its controller loop runs
the due monitors and decides the due rollouts) and a ``stead serve --deployment churn`` taking
next month's (drifted) customers. The monitor's alert launches the churn example's pipeline,
which trains on the newest dataset version, registers it as ``churn@candidate`` and starts a
canary rollout; the server judges it on the live traffic and promotes it. Nobody types a
command between. Every stage is asserted on what the store recorded: ``monitor_runs``,
``alert_events``, the pipeline run, the new version and its aliases, ``rollout_decisions``.
A second case rolls back a broken candidate (it fails for most requests) by the same loop
(SQLite; the promotion runs on SQLite and PostgreSQL).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("sklearn")

from server_process import free_port, run_server, stead_server  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PIPELINE = REPO / "examples" / "churn" / "pipeline.py"


def _customers() -> Any:
    """The churn examples' generator (examples/churn/customers.py), loaded by path."""
    spec = importlib.util.spec_from_file_location("churn_example_customers", REPO / "examples" / "churn" /
                                                  "customers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Loop:
    """A project (churn/1 trained on data:/customers@1, alias production, served as deployment
    ``churn``; next month's customers versioned as data:/customers@2) and its processes."""

    def __init__(self, root: Path, store_url: str) -> None:
        from stead.artifacts import open_artifact_store
        from stead.config import Settings
        from stead.store import open_store

        self.root, self.store_url = root, store_url
        self.home = root / ".stead"  # stead_server's layout: the artifacts under the home
        self.settings = Settings(home=self.home, store_url=store_url, artifacts_url=str(self.home / "artifacts"))
        self.store = open_store(store_url)
        self.artifacts = open_artifact_store(str(self.home / "artifacts"))
        self.customers = _customers()
        self.next_month = self.customers.make_next_month(2000, seed=9)

    def env(self) -> dict[str, str]:
        return {"STEAD_HOME": str(self.home), "STEAD_STORE_URL": self.store_url,
                "STEAD_ARTIFACTS_URL": str(self.home / "artifacts"), "STEAD_TRACKING_URI": ""}

    def registry(self) -> Any:
        from stead.registry.client import RegistryClient

        return RegistryClient(self.settings)

    def make(self) -> None:
        import stead
        import stead.data
        from sklearn.linear_model import LogisticRegression
        from stead.registry.client import RegistryClient
        from stead.serving.deployments import Deployments, Variant
        from stead.tracking import fluent
        from stead.tracking.client import TrackingClient

        data = self.root / "data"
        data.mkdir(parents=True)
        self.home.mkdir()
        features, label = self.customers.FEATURES, self.customers.LABEL
        table = self.customers.make_customers(2000, 7)
        table.to_csv(data / "customers.csv", index=False)
        uri = stead.data.add(data / "customers.csv", "customers", settings=self.settings).version.uri
        client = TrackingClient(self.settings)
        fluent.set_client(client)
        try:
            with fluent.start_run("churn") as run:
                stead.log_input(uri)
                model = LogisticRegression(C=0.1, max_iter=200).fit(table[features], table[label])
                stead.log_model(model, "model", input_example=table[features].head(5))
            registry = RegistryClient(tracking=client, user="test")
            version = registry.register_model(f"runs:/{run.info.run_id}/model", "churn")
            registry.set_alias("churn", "production", version.version)
        finally:
            fluent.set_client(None)
            client.close()
        self.next_month.to_csv(data / "customers_month2.csv", index=False)
        added = stead.data.add(data / "customers_month2.csv", "customers", settings=self.settings).version.uri
        assert added == "data:/customers@2"
        Deployments(self.store).create("churn", [Variant("primary", "churn@production", 100)])

    def start(self, stack: ExitStack) -> str:
        """``stead server`` (the controller loop on) and ``stead serve --deployment churn``; the
        model server's URL."""
        stack.enter_context(stead_server(self.home, store_url=self.store_url))
        port = free_port()
        argv = [sys.executable, "-m", "stead.cli", "serve", "--deployment", "churn", "--port", str(port),
                "--log-sample", "1", "--log-flush", "0.2", "--poll", "0.2", "--trust-pickle"]
        return stack.enter_context(run_server(argv, port, self.env(), deadline_s=120,
                                              health_path="/v2/health/ready", log_path=self.home / "serve.log"))

    def drive(self, url: str, what: str, done: Callable[[], Any], deadline_s: float = 150.0) -> Any:
        """Send next month's customers (8 a request) until ``done()`` is true; its value. The
        traffic never stops while the loop works, as a deployment's would not."""
        rows = self.next_month[self.customers.FEATURES].values.tolist()
        cols = self.customers.FEATURES
        start = time.monotonic()
        i = 0
        with httpx.Client(timeout=30) as http:
            while True:
                for _ in range(10):
                    batch = [rows[(i * 8 + k) % len(rows)] for k in range(8)]
                    http.post(f"{url}/invocations", json={"dataframe_split": {"columns": cols, "data": batch}})
                    i += 1
                found = done()
                if found:
                    return found
                assert time.monotonic() - start < deadline_s, f"{what}: not within {deadline_s} s; " \
                    f"server log: {self._tail('server.log')}; serve log: {self._tail('serve.log')}"

    def _tail(self, name: str) -> str:
        path = self.home / name
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(none)"

    def close(self) -> None:
        self.store.dispose()


@pytest.fixture
def loop(tmp_path: Path, store_url: str) -> Iterator[Loop]:
    made = Loop(tmp_path / "project", store_url)
    made.make()
    yield made
    made.close()


def _logged(loop: Loop, requests: int) -> Callable[[], bool]:
    """True once the prediction log holds ``requests`` requests."""
    from stead.monitoring.variants import read_variants

    since = time.time() - 60
    return lambda: sum(s.requests for s in read_variants(loop.artifacts, "churn", since, time.time() + 1).values()) \
        >= requests


def _ended(loop: Loop) -> Callable[[], Any]:
    from stead.errors import NotFound
    from stead.monitoring import current_rollout

    def check() -> Any:
        try:
            r = current_rollout(loop.store, "churn")
        except NotFound:
            return None
        return r if r.state in ("promoted", "rolled_back", "aborted", "paused") else None

    return check


def _pipeline_run(loop: Loop, run_id: str) -> Any:
    from stead.pipelines.records import PipelineRecords
    from stead.pipelines.store import open_pipeline_store

    return PipelineRecords(open_pipeline_store(loop.settings)).get(run_id)


@pytest.mark.slow
def test_drifted_traffic_is_answered_by_a_retrained_model_promoted_by_the_servers_analysis(loop: Loop) -> None:
    from stead.monitoring import create_monitor, list_alerts, list_monitor_runs, rollout_history

    with ExitStack() as stack:
        url = loop.start(stack)
        loop.drive(url, "traffic in the log", _logged(loop, 100))
        create_monitor(loop.store, "churn-drift", "churn", every="1h", window="10m",
                       on_alert=f"run:{PIPELINE}:demo_retrain_pipeline")
        final = loop.drive(url, "the rollout to end", _ended(loop))
        assert final.state == "promoted", final.reason

        [run] = list_monitor_runs(loop.store, "churn-drift")  # every 1h: one check in this test
        assert run.status == "alert" and run.summary["drift"]["dataset_drift"] is True, run.summary["message"]
        drifted = {f["column"] for f in run.summary["drift"]["features"] if f["drifted"]}
        assert {"monthly_charges", "tenure_months"} <= drifted
        assert run.summary["model"] == "churn/1" and run.summary["trained_on"].startswith("data:/customers@1")

        [event] = list_alerts(loop.store, monitor="churn-drift")
        assert (event.source, event.name, event.status) == ("monitor", "SteadDataDrift", "firing")
        assert event.action == f"run:{PIPELINE}:demo_retrain_pipeline"
        prefix = "started pipeline run "
        assert event.result and event.result.startswith(prefix), event.result
        run_id, _, params = event.result[len(prefix):].partition(" with ")
        assert json.loads(params) == {"deployment": "churn", "dataset": "data:/customers@2"}

        pipeline = _pipeline_run(loop, run_id)
        assert (pipeline.status, pipeline.trigger) == ("SUCCEEDED", "monitor:churn-drift"), pipeline.error
        assert pipeline.params["dataset"] == "data:/customers@2" and pipeline.params["deployment"] == "churn"
        assert {s.step_id: s.status for s in pipeline.steps}["roll_out"] == "SUCCEEDED"

        registry = loop.registry()
        candidate = registry.get_version_by_alias("churn", "candidate")
        assert int(candidate.version) == 2
        assert [d["uri"] for d in candidate.datasets if str(d.get("uri", "")).startswith("data:/")] == [
            "data:/customers@2"]  # the retrained version's run names the data it trained on

        decisions = [d for r, d in rollout_history(loop.store, "churn") if r.id == final.id]
        actions = [d.action for d in decisions]
        assert actions[0] == "start" and actions[-1] == "promote", actions
        assert "step" in actions and set(actions) <= {"start", "step", "hold", "promote"}, actions
        judged = decisions[1:]
        assert all(d.verdict in ("pass", "fail") and d.analysis for d in judged)
        assert [d.weight_after for d in judged if d.action == "step"] == [50]
        last = decisions[-1]
        assert last.verdict == "pass" and last.message.startswith("promoted: churn@production: 1 -> 2")
        counts = last.analysis["variants"]
        assert counts["canary"]["requests"] >= 50 and counts["primary"]["requests"] >= 50

        assert int(registry.get_version_by_alias("churn", "production").version) == 2
        from stead.serving.deployments import Deployments

        assert [(v.name, v.model, v.weight) for v in Deployments(loop.store).get("churn").variants] == [
            ("primary", "churn@production", 100)]
        answer = httpx.post(f"{url}/invocations", timeout=30, json={"dataframe_split": {
            "columns": loop.customers.FEATURES, "data": loop.next_month[loop.customers.FEATURES].head(2)
            .values.tolist()}})
        assert answer.status_code == 200 and len(answer.json()["predictions"]) == 2
    server_log = (loop.home / "server.log").read_text()
    assert "Traceback" not in server_log, server_log[-3000:]


BROKEN = '''
"""A retraining pipeline whose model is broken: it loads and warms up (its example pays 70
a month) but fails every request with a customer paying more than 80 (a bug shipped)."""
import sys

import numpy as np
import stead
import stead.pipelines as sp
from stead.models.flavors.python_model import PythonModel


class Broken(PythonModel):
    def predict(self, context, model_input, params=None):
        if (model_input["monthly_charges"].to_numpy() > 80).any():
            raise RuntimeError("this candidate cannot score customers paying more than 80")
        return np.zeros(len(model_input), dtype=np.int64)


@sp.step
def retrain_badly(deployment: str, dataset: str) -> dict:
    import pandas as pd
    from stead.monitoring import start_rollout
    from stead.registry.client import RegistryClient
    from stead.serving.deployments import Deployments
    from stead.store import open_store

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the model server cannot import this file
    with stead.start_run("churn", run_name="broken") as run:
        stead.log_input(dataset)
        example = pd.DataFrame([[1, 70.0, 1, 0]], columns=COLUMNS)
        stead.log_model(Broken(), "model", input_example=example)
    registry = RegistryClient.from_tracking(stead.get_client())
    version = registry.register_model(f"runs:/{run.info.run_id}/model", "churn")
    registry.set_alias("churn", "candidate", version.version)
    store = open_store(registry.settings.resolved_store_url)
    r = start_rollout(Deployments(store, registry), deployment, "churn@candidate", step=50, max_weight=50,
                      interval_s=2.0, checks=2, user="pipeline")
    return {"rollout": r.id, "version": int(version.version)}


@sp.pipeline
def retrain(deployment: str = "", dataset: str = ""):
    retrain_badly(deployment, dataset)
'''


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the promotion case covers PostgreSQL too
def test_a_broken_retrained_candidate_is_rolled_back_by_the_same_loop(loop: Loop) -> None:
    from stead.monitoring import create_monitor, list_alerts, rollout_history

    pipeline = loop.root / "broken_pipeline.py"
    pipeline.write_text(f"COLUMNS = {loop.customers.FEATURES!r}\n" + BROKEN)
    with ExitStack() as stack:
        url = loop.start(stack)
        loop.drive(url, "traffic in the log", _logged(loop, 100))
        create_monitor(loop.store, "churn-drift", "churn", every="1h", window="10m",
                       on_alert=f"run:{pipeline}:retrain")
        final = loop.drive(url, "the rollout to end", _ended(loop))
        assert final.state == "rolled_back", final.reason
        [event] = list_alerts(loop.store, monitor="churn-drift")
        run_id = event.result.split()[3]
        assert _pipeline_run(loop, run_id).status == "SUCCEEDED"
        decisions = [d for r, d in rollout_history(loop.store, "churn") if r.id == final.id]
        assert [d.action for d in decisions] == ["start", "hold", "rollback"]
        assert all("critical check failed: error_rate" in d.message for d in decisions[1:])
        assert decisions[-1].analysis["variants"]["canary"]["errors"] > 0
        registry = loop.registry()
        assert int(registry.get_version_by_alias("churn", "production").version) == 1  # it never moved
        assert int(registry.get_version_by_alias("churn", "candidate").version) == 2
        from stead.serving.deployments import Deployments

        assert [v.name for v in Deployments(loop.store).get("churn").variants] == ["primary"]


def test_the_servers_loop_wakes_when_the_next_monitor_is_due(tmp_path: Path, store_url: str) -> None:
    from stead.config import Settings
    from stead.monitoring import create_monitor
    from stead.monitoring.scheduler import MonitorScheduler, next_due, tick_rollouts
    from stead.serving.deployments import Deployments, Variant
    from stead.store import open_store

    store = open_store(store_url)
    try:
        settings = Settings(home=tmp_path, store_url=store_url, artifacts_url=str(tmp_path / "artifacts"))
        loop = MonitorScheduler(settings, store, None, interval=5.0)
        assert next_due(store) is None and loop._wait() == 5.0  # nothing to do: the longest wait
        assert tick_rollouts(settings, store, None, time.time()) == []  # no rollout in progress: no decision
        Deployments(store).create("churn", [Variant("primary", "churn@production", 100)])
        now = time.time()
        create_monitor(store, "later", "churn", every="1h", window="1h", now=now + 2)
        assert next_due(store) == pytest.approx(now + 2, abs=0.001)
        assert 0.05 <= loop._wait() <= 2.0  # wakes for it, not 5 s later
        create_monitor(store, "overdue", "churn", every="1h", window="1h", now=now - 60)
        assert next_due(store) == pytest.approx(now - 60, abs=0.001) and loop._wait() == 0.05  # never spins
    finally:
        store.dispose()

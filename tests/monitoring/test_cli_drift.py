"""`stead monitor reference` and `stead monitor drift` as a user runs them: real processes in a
project whose churn model was trained, in a tracked run, on a versioned dataset; the current
data a file, a dataset version, or what a real `stead serve` process logged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from churn_project import FEATURES, Project, customers, make_project  # noqa: E402
from server_process import free_port, run_server  # noqa: E402

STEAD = [sys.executable, "-m", "stead.cli"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The churn project (SQLite), plus current files: shifted, same-distribution, retyped."""
    import stead
    from sklearn.linear_model import LogisticRegression

    from stead.registry.client import RegistryClient
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    root = tmp_path_factory.mktemp("monitor") / "proj"
    p = make_project(root, f"sqlite:///{root.parent / 'stead.db'}")
    data = root / "data"
    customers(1500, seed=11, charges_shift=30).to_parquet(data / "shifted.parquet")
    customers(1500, seed=12).to_parquet(data / "same.parquet")
    customers(1500, seed=13).to_csv(data / "same.csv", index=False)
    retyped = customers(1500, seed=14)
    retyped["support_calls"] = retyped["support_calls"].astype(str)
    retyped.to_parquet(data / "retyped.parquet")
    # a model whose run names no dataset: no lineage to compute statistics from
    client = TrackingClient(p.settings())
    fluent.set_client(client)
    try:
        with fluent.start_run("plain") as run:
            x = customers(200, seed=3)[["tenure_months", "monthly_charges"]]
            stead.log_model(LogisticRegression().fit(x, x.tenure_months > 30), "model", input_example=x.head(3))
        RegistryClient(tracking=client).register_model(f"runs:/{run.info.run_id}/model", "plain")
    finally:
        fluent.set_client(None)
        client.close()
    return p


def stead_cli(p: Project, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    env.update(p.env(), COLUMNS="200")
    return subprocess.run([*STEAD, *args], cwd=p.root, capture_output=True, text=True, env=env, timeout=120)


def drift_json(p: Project, *args: str) -> dict:  # type: ignore[type-arg]
    done = stead_cli(p, "monitor", "drift", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_every_command_has_help_with_an_example(tmp_path: Path) -> None:
    p = Project(tmp_path, f"sqlite:///{tmp_path / 'stead.db'}", 0)
    for command in ("reference", "drift"):
        helped = stead_cli(p, "monitor", command, "--help")
        assert helped.returncode == 0, helped.stderr
        assert "Example:" in helped.stdout, f"stead monitor {command} --help has no example"


def test_drift_against_a_registered_model_uses_its_training_data(project: Project) -> None:
    report = drift_json(project, "--reference", "churn@1", "--current", "data/shifted.parquet")
    assert report["reference"] == "churn/1 (data:/customers@1)" and report["current"] == "shifted.parquet"
    by = {f["column"]: f for f in report["features"]}
    assert list(by) == FEATURES  # the signature's inputs: not customer_id, not the label
    assert by["monthly_charges"]["drifted"] is True and by["monthly_charges"]["test"] == "wasserstein"
    assert not any(by[c]["drifted"] for c in ("tenure_months", "support_calls", "plan"))
    assert by["plan"]["test"] == "jensenshannon"
    assert report["reference_rows"] == 2000 and report["current_rows"] == 1500
    assert report["dataset_drift"] is False and report["drifted_features"] == 1  # 1 of 4 < 50 %

    table = stead_cli(project, "monitor", "drift", "-r", "churn@production", "-c", "data/shifted.parquet",
                      "--drift-share", "0.25")
    assert table.returncode == 0, table.stderr  # drift alone is no failure
    assert "monthly_charges" in table.stdout and "wasserstein" in table.stdout
    assert "dataset: DRIFT (1 of 4 features drifted, 25%; threshold 25%)" in table.stdout

    failed = stead_cli(project, "monitor", "drift", "-r", "churn@1", "-c", "data/shifted.parquet",
                       "--drift-share", "0.25", "--fail-on-drift")
    assert failed.returncode == 1
    assert "drift detected: 1 of 4 features drifted" in failed.stderr


def test_same_distribution_does_not_drift(project: Project) -> None:
    done = stead_cli(project, "monitor", "drift", "-r", "models:/churn/1", "-c", "data/same.parquet",
                     "--fail-on-drift", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["dataset_drift"] is False and report["drifted_features"] == 0
    assert report["schema_violations"] == []
    # the reference may be a dataset version or a file, the current data a CSV or a dataset version
    vs_data = drift_json(project, "-r", "data:/customers@1", "-c", "data/same.csv")
    assert vs_data["reference"] == "data:/customers@1" and vs_data["dataset_drift"] is False
    assert {f["column"] for f in vs_data["features"]} >= {*FEATURES, "customer_id"}  # a dataset: every column
    vs_file = drift_json(project, "-r", "data/same.parquet", "-c", "data:/customers@latest")
    assert vs_file["current"] == "data:/customers@1" and vs_file["dataset_drift"] is False


def test_reference_command_stores_and_shows(project: Project) -> None:
    done = stead_cli(project, "monitor", "reference", "churn@1", "--data", "data:/customers@1")
    assert done.returncode == 0, done.stderr
    for name in FEATURES:
        assert name in done.stdout
    assert "from data:/customers@1: 2,000 rows, 4 features" in done.stdout
    shown = json.loads(stead_cli(project, "monitor", "reference", "churn@production", "--json").stdout)
    assert shown["model"] == "churn" and shown["version"] == 1 and shown["features"] == FEATURES
    assert shown["source"] == "data:/customers@1" and shown["stats"]["rows"] == 2000
    from_file = stead_cli(project, "monitor", "reference", "plain@1", "--data", "data/same.parquet", "--json")
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout)["features"] == ["tenure_months", "monthly_charges"]  # its signature


def test_bad_input_is_one_clear_line(project: Project) -> None:
    unknown = stead_cli(project, "monitor", "drift", "-r", "nosuch@1", "-c", "data/same.parquet")
    assert unknown.returncode != 0 and "RESOURCE_DOES_NOT_EXIST" in unknown.stderr and "nosuch" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    no_alias = stead_cli(project, "monitor", "drift", "-r", "churn@nightly", "-c", "data/same.parquet")
    assert no_alias.returncode != 0 and "no alias 'nightly'" in no_alias.stderr

    missing = stead_cli(project, "monitor", "drift", "-r", "churn@1", "-c", "data/missing.parquet")
    assert missing.returncode != 0 and "No such file: data/missing.parquet" in missing.stderr
    neither = stead_cli(project, "monitor", "drift", "-r", "churn@1")
    assert neither.returncode != 0 and "--current" in neither.stderr


def test_model_without_lineage_says_how(tmp_path: Path) -> None:
    import stead
    from sklearn.linear_model import LogisticRegression

    from stead.registry.client import RegistryClient
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    p = Project(tmp_path / "bare", f"sqlite:///{tmp_path / 'bare.db'}", 1)
    p.root.mkdir()
    customers(500, seed=1).to_parquet(p.root / "now.parquet")
    client = TrackingClient(p.settings())
    fluent.set_client(client)
    try:
        with fluent.start_run("plain") as run:
            x = customers(200, seed=3)[["tenure_months", "monthly_charges"]]
            stead.log_model(LogisticRegression().fit(x, x.tenure_months > 30), "model", input_example=x.head(3))
        RegistryClient(tracking=client).register_model(f"runs:/{run.info.run_id}/model", "plain")
    finally:
        fluent.set_client(None)
        client.close()
    done = stead_cli(p, "monitor", "drift", "-r", "plain@1", "-c", "now.parquet")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "plain/1 has no reference statistics" in done.stderr
    assert "stead monitor reference plain@1 --data" in done.stderr
    shown = stead_cli(p, "monitor", "reference", "plain@1")
    assert shown.returncode != 0 and "stead monitor reference plain@1 --data" in shown.stderr


def test_changed_column_type_is_a_schema_violation(project: Project) -> None:
    report = drift_json(project, "-r", "churn@1", "-c", "data/retyped.parquet")
    by = {f["column"]: f for f in report["features"]}
    assert by["support_calls"]["status"] == "schema_violation" and by["support_calls"]["drifted"] is None
    assert "changed type: int64 in the reference" in by["support_calls"]["message"]
    assert report["tested_features"] == 3  # the violation is reported, not counted as tested
    table = stead_cli(project, "monitor", "drift", "-r", "churn@1", "-c", "data/retyped.parquet")
    assert table.returncode == 0
    assert "schema violation: column 'support_calls' changed type: int64 in the reference" in table.stdout


def test_drift_of_what_a_served_model_saw(project: Project) -> None:
    """`stead serve` logs the requests; the drift check reads the deployment's window."""
    shifted = customers(40, seed=21, charges_shift=40)[FEATURES]
    port = free_port()
    argv = [*STEAD, "serve", "models:/churn@production", "--port", str(port), "--log-sample", "1",
            "--log-flush", "0.05", "--trust-pickle"]  # a scikit-learn pipeline this test pickled itself
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}, **project.env()}
    with run_server(argv, port, env, health_path="/v2/health/ready", cwd=project.root, inherit_env=False,
                    deadline_s=60, log_path=project.root.parent / f"serve-{port}.log") as url:
        for start in range(0, 40, 4):  # ten requests of four rows
            part = shifted.iloc[start:start + 4]
            body = {"dataframe_split": {"columns": FEATURES, "data": part.values.tolist()}}
            answer = httpx.post(f"{url}/invocations", json=body, timeout=30)
            assert answer.status_code == 200, answer.text
    # the server flushed its log when it stopped
    report = drift_json(project, "-r", "churn@1", "--deployment", "churn", "--window", "1h")
    assert report["current"].startswith("deployment churn, ")
    assert report["current_rows"] == 40
    by = {f["column"]: f for f in report["features"]}
    assert list(by) == FEATURES and by["monthly_charges"]["drifted"] is True
    assert by["plan"]["status"] == "ok" and by["plan"]["current_rows"] == 40

    # a window of yesterday holds none of it: no data, and no verdict claimed
    from stead.artifacts.factory import open_artifact_store
    from stead.monitoring.drift import detect_drift
    from stead.monitoring.references import find
    from stead.monitoring.sources import window_source
    from stead.store import open_store

    yesterday = window_source(open_artifact_store(str(project.artifacts)), "churn", "1h", end=time.time() - 86400)
    assert yesterday.data.num_rows == 0
    store = open_store(project.store_url)
    try:
        stored = find(store, "churn", 1)
    finally:
        store.dispose()
    assert stored is not None
    empty = detect_drift(stored.stats, yesterday.data)
    assert empty.status == "no_data" and empty.dataset_drift is None

    unknown = stead_cli(project, "monitor", "drift", "-r", "churn@1", "--deployment", "nosuch")
    assert unknown.returncode != 0 and "Deployment 'nosuch' does not exist" in unknown.stderr


def test_logged_request_shapes_become_columns() -> None:
    """Columnar inputs (what `stead serve` writes), records and positional rows; one output
    becomes the prediction column; rows without a column are missing there."""
    import pyarrow as pa

    from stead.monitoring.sources import decode_requests

    logged = pa.table({
        "time": pa.array([1_000_000, 2_000_000, 3_000_000], pa.timestamp("us", tz="UTC")),
        "request_id": ["a", "b", "c"], "variant": ["primary"] * 3, "model_version": ["1"] * 3,
        "inputs": [json.dumps({"age": [30, 41], "plan": ["basic", "pro"]}),
                   json.dumps([{"age": 52, "plan": "plus"}]),
                   json.dumps([[63, "basic"]])],
        "outputs": [json.dumps({"predict": [0, 1]}), json.dumps({"predict": [1]}), json.dumps({"predict": [0]})],
    })
    table = decode_requests(logged, prediction="churned", names=["age", "plan"])
    assert table.column("age").to_pylist() == [30, 41, 52, 63]
    assert table.column("plan").to_pylist() == ["basic", "pro", "plus", "basic"]
    assert table.column("churned").to_pylist() == [0, 1, 1, 0]
    assert table.column("request_id").to_pylist() == ["a", "a", "b", "c"]
    unnamed = decode_requests(logged.slice(2), names=None)
    assert unnamed.column_names[:3] == ["0", "1", "predict"]
    partial = decode_requests(logged.slice(0, 2).set_column(
        4, "inputs", pa.array([json.dumps({"age": [1]}), json.dumps({"plan": ["pro"]})])))
    assert partial.column("age").to_pylist() == [1, None] and partial.column("plan").to_pylist() == [None, "pro"]

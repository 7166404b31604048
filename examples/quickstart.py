"""stead quickstart: train a small churn model on generated data and track every try.

Run it with `python3 dev.py demo` (or `python examples/quickstart.py` from the repository root
inside the venv); it keeps everything in ./.stead of the folder it runs from.
Each step of the lifecycle that stead covers adds itself here.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import stead


HERE = Path(__file__).resolve().parent


def write_customers(path: Path, seed: int = 7) -> None:
    """The churn examples' customer table (2,000 customers, 4 features, a 0/1 label) as CSV."""
    from churn.customers import make_customers

    path.parent.mkdir(parents=True, exist_ok=True)
    make_customers(2000, seed).to_csv(path, index=False)


def load_split(csv: Path, seed: int = 7):  # type: ignore[no-untyped-def]
    """Features and labels of a local copy of a data set version, split 75/25."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from churn.customers import FEATURES, LABEL

    table = pd.read_csv(csv)
    return train_test_split(table[FEATURES], table[LABEL], test_size=0.25, random_state=seed)


def train(C: float, max_iter: int, data) -> str:  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score

    X_train, X_test, y_train, y_test = data
    with stead.start_run("churn", run_name=f"logreg-C{C}", seed=7) as run:
        stead.log_input("data:/customers@latest")
        stead.log_params({"model": "LogisticRegression", "C": C, "max_iter": max_iter})
        model = LogisticRegression(C=C, max_iter=max_iter)
        model.fit(X_train, y_train)
        for step, frac in enumerate((0.25, 0.5, 0.75, 1.0)):
            n = int(len(X_test) * frac)
            stead.log_metric("accuracy", accuracy_score(y_test[:n], model.predict(X_test[:n])), step=step)
        auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
        stead.log_metric("auc", auc)
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "coefficients.json"
            report.write_text(json.dumps({"coef": model.coef_.tolist(), "intercept": model.intercept_.tolist()}))
            stead.log_artifact(report)
        stead.log_model(model, "model", input_example=X_test[:5])
        return run.run_id


def v2_request(rows) -> dict:  # type: ignore[no-untyped-def]
    """An Open Inference Protocol request with one named tensor per column of ``rows``."""
    datatypes = {"int64": "INT64", "float64": "FP64"}
    return {"inputs": [{"name": column, "shape": [len(rows)], "datatype": datatypes[str(rows[column].dtype)],
                        "data": rows[column].tolist()} for column in rows.columns]}


def serve_and_ask(rows) -> None:  # type: ignore[no-untyped-def]
    """Start a real model server on a free port, send one V2 request, stop it."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "stead.cli", "serve", "models:/churn@production", "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v2/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"stead serve did not become ready: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.1)
        body = v2_request(rows)
        answer = httpx.post(f"{base}/v2/models/churn/infer", json=body, timeout=10).json()
        print(f"   {base}/v2/models/churn/infer -> {answer['outputs'][0]['data']}")
        print(f"   (also: POST {base}/invocations, GET {base}/metrics)")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    import stead.data

    print("1. Data: version the customer table and check it against expectations")
    source = HERE / "data" / "customers.csv"
    write_customers(source)
    added = stead.data.add(source, "customers", message="quickstart data")
    print(f"   {added.version.uri}: {added.version.num_files} file, {added.version.num_bytes:,} bytes")
    report = stead.data.validate(added.version.uri, HERE / "expectations.yaml", raise_on_failure=True)
    print(f"   validation: {report.summary()}")
    data = load_split(stead.data.get(added.version.uri))  # a local copy of exactly that version

    print()
    print("2. Tracking: training three models, each a tracked run")
    for C in (0.01, 0.1, 1.0):
        run_id = train(C, 200, data)
        print(f"   run {run_id}  C={C}")

    client = stead.get_client()
    experiment = client.get_experiment_by_name("churn")
    assert experiment is not None
    best = client.search_runs([experiment.experiment_id], order_by=["metrics.auc DESC"], max_results=1).items[0]
    print(f"   best run: {best.info.run_name} auc={best.data.metrics['auc'].value:.4f}")


    print()
    print("3. Registry: register the best model and point the production alias at it")
    import stead.registry as registry

    version = stead.register_model(f"runs:/{best.info.run_id}/model", "churn")
    registry.set_alias("churn", "production", version.version, reason="best AUC in the quickstart")
    print(f"   models:/churn/{version.version} is now models:/churn@production")

    print()
    print("4. Load the production model by its alias and predict")
    # The model is a pickle this project wrote itself: trusting it is opting in to run its code.
    model = stead.load_model("models:/churn@production", trust=True)
    X_test = data[1]
    print(f"   predictions for 5 customers: {model.predict(X_test[:5]).tolist()}")


    print()
    print("5. Pipeline: validate -> train -> evaluate -> register as churn@staging if good enough")
    from stead.pipelines import load_pipeline, run_pipeline

    pipeline = load_pipeline(f"{HERE / 'churn' / 'pipeline.py'}:train_pipeline")
    first = run_pipeline(pipeline, {"n_estimators": 30})
    again = run_pipeline(pipeline, {"n_estimators": 30})
    cached = sum(1 for s in again.steps if s.cache_hit)
    print(f"   run {first.run_id}: {first.status}; the same run again: {cached} of {len(again.steps)} steps cached")


    print()
    print("6. Serving: stead serve models:/churn@production, asked over the Open Inference Protocol")
    serve_and_ask(X_test[:3])

    print()
    print("7. Monitoring: has next month's data drifted from what churn@production was trained on?")
    check_drift(HERE / "data" / "customers_next_month.csv")

    print()
    print("8. The loop: a monitor finds drift, a pipeline retrains, a canary rollout decides; no command between")
    loop = closed_loop(client.settings)

    print()
    print(f"Where to look (from {Path.cwd()}{_activate_hint()}):")
    for command in where_to_look(best.info.run_id, first.run_id, loop):
        print(f"   {command}")
    print(f"   metadata store: {client.settings.resolved_store_url}")


def check_drift(path: Path) -> None:
    """Write a month of newer, pricier customers and compare it with the training data's
    reference statistics (computed from data:/customers@1, the run's input, and stored)."""
    import subprocess
    import sys

    from churn.customers import make_customers

    later = make_customers(1000, seed=8)
    later["monthly_charges"] += 25
    later["tenure_months"] = (later["tenure_months"] // 3).clip(lower=1)
    later.to_csv(path, index=False)
    command = ["monitor", "drift", "--reference", "churn@production", "--current", os.path.relpath(path)]
    print(f"   stead {' '.join(command)}")
    done = subprocess.run([sys.executable, "-m", "stead.cli", *command, "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"stead monitor drift failed: {done.stderr}")
    report = json.loads(done.stdout)
    for feature in report["features"]:
        print(f"   {feature['column']:<17} {feature['test']:<13} {feature['score']:.3f} "
              f"(threshold {feature['threshold']})  {'drifted' if feature['drifted'] else 'ok'}")
    verdict = "drifted" if report["dataset_drift"] else "no drift"
    print(f"   dataset: {verdict} ({report['drifted_features']} of {report['tested_features']} features)")


def where_to_look(best_run_id: str, pipeline_run_id: str, loop: dict | None = None) -> list[str]:
    """The commands that show what the quickstart made (a test runs each of them)."""
    commands = [
        "stead runs list -e churn -o 'metrics.auc DESC'",
        f"stead runs show {best_run_id}",
        "stead models show churn",
        "stead models card churn@production",
        "stead data versions customers",
        f"stead pipeline graph {pipeline_run_id}",
    ]
    if loop:
        commands += [f"stead monitor show {loop['monitor']}", f"stead monitor alerts --deployment {loop['deployment']}",
                     f"stead pipeline graph {loop['pipeline_run']}", f"stead deploy history {loop['deployment']}"]
    return commands


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(args: list[str], health: str, logs: Path):  # type: ignore[no-untyped-def]
    """``stead ARGS`` as a background process (output to ``logs``), once ``health`` answers 200."""
    import subprocess
    import sys
    import time

    import httpx

    out = open(logs, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "stead.cli", *args], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(health, timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"stead {' '.join(args)} did not start; see {logs}")
        time.sleep(0.1)


def _stead(*args: str) -> str:
    import subprocess
    import sys

    print(f"   $ stead {' '.join(args)}")
    done = subprocess.run([sys.executable, "-m", "stead.cli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"stead {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def closed_loop(settings, deadline_s: float = 120.0) -> dict | None:  # type: ignore[no-untyped-def]
    """Serve churn@production as deployment ``churn`` with a monitor whose alert runs the
    retraining pipeline, send it next month's (drifted) customers, and report each stage as
    the stead server records it, until the rollout of the retrained model ends."""
    import time

    import httpx

    import stead.data
    from churn.customers import FEATURES, make_next_month
    from stead.errors import NotFound
    from stead.monitoring import current_rollout, list_alerts, list_monitor_runs, rollout_history
    from stead.pipelines.records import PipelineRecords
    from stead.pipelines.store import open_pipeline_store
    from stead.registry.client import RegistryClient
    from stead.serving.deployments import Deployments
    from stead.store import open_store

    store = open_store(settings.resolved_store_url)
    try:
        Deployments(store).get("churn")
    except NotFound:
        pass
    else:
        store.dispose()
        print("   this home has run the loop before (deployment churn exists): see stead deploy history churn;")
        print("   remove .stead/ to run the whole quickstart again from the start")
        return None
    later = make_next_month(2000, seed=9)
    path = HERE / "data" / "customers_month2.csv"
    later.to_csv(path, index=False)
    added = stead.data.add(path, "customers", message="next month's customers, labelled")
    print(f"   {added.version.uri}: next month's customers, labelled (pricier, newer; the same churn rule)")
    _stead("deploy", "create", "churn", "--model", "churn@production")
    logs = Path(settings.home) / "quickstart-logs"
    logs.mkdir(parents=True, exist_ok=True)
    server_port, serve_port = _free_port(), _free_port()
    processes = []
    runs = PipelineRecords(open_pipeline_store(settings))
    registry = RegistryClient(settings)
    try:
        print(f"   $ stead server --port {server_port}            # runs the due monitors and rollout decisions")
        processes.append(_start(["server", "--port", str(server_port)], f"http://127.0.0.1:{server_port}/health",
                                logs / "server.log"))
        # --trust-pickle: the retrained model is a pickle this project's own pipeline wrote
        print(f"   $ stead serve --deployment churn --port {serve_port} --log-sample 1 --log-flush 0.2 --poll 0.2 "
              "--trust-pickle")
        processes.append(_start(["serve", "--deployment", "churn", "--port", str(serve_port), "--log-sample", "1",
                                 "--log-flush", "0.2", "--poll", "0.2", "--trust-pickle"],
                                f"http://127.0.0.1:{serve_port}/v2/health/ready", logs / "serve.log"))
        url = f"http://127.0.0.1:{serve_port}/invocations"
        rows = later[FEATURES]
        with httpx.Client(timeout=30) as http:
            def send(n: int, start: int) -> int:
                """``n`` requests of 8 customers each (a rollout's judge compares predicted rows)."""
                for i in range(start, start + n):
                    batch = rows.iloc[[(i * 8 + k) % len(rows) for k in range(8)]]
                    http.post(url, json={"dataframe_split": {"columns": FEATURES, "data": batch.values.tolist()}})
                return start + n

            sent = send(100, 0)
            print(f"   sent {sent} requests of 8 of next month's customers each")
            _stead("monitor", "create", "churn-drift", "--deployment", "churn", "--every", "1h", "--window", "10m",
                   "--on-alert", "run:examples/churn/pipeline.py:demo_retrain_pipeline")
            seen: set = set()
            state: dict = {"monitor": "churn-drift", "deployment": "churn", "pipeline_run": None}
            began = time.monotonic()
            while time.monotonic() - began < deadline_s:
                sent = send(10, sent)  # the traffic goes on throughout, as a deployment's would
                for run in reversed(list_monitor_runs(store, "churn-drift")):
                    if ("run", run.id) not in seen:
                        seen.add(("run", run.id))
                        print(f"   [{time.monotonic() - began:4.1f}s] monitor churn-drift: {run.status}: "
                              f"{run.summary.get('message', '')}")
                for event in reversed(list_alerts(store, monitor="churn-drift")):
                    if ("alert", event.id) not in seen and event.result:
                        seen.add(("alert", event.id))
                        print(f"   [{time.monotonic() - began:4.1f}s] alert {event.name} ({event.status}) -> "
                              f"{event.result}")
                        if state["pipeline_run"] is None and event.result.startswith("started pipeline run "):
                            state["pipeline_run"] = event.result.split()[3]
                if state["pipeline_run"] and "pipeline" not in state:
                    run = runs.get(state["pipeline_run"], with_logs=False)
                    if run.status in ("SUCCEEDED", "FAILED", "CANCELLED"):
                        state["pipeline"] = run.status
                        try:
                            candidate = registry.get_version_by_alias("churn", "candidate").version
                            what = f"; churn@candidate is churn/{candidate}"
                        except NotFound:
                            what = ""
                        print(f"   [{time.monotonic() - began:4.1f}s] pipeline run {run.run_id}: "
                              f"{run.status}{what}")
                        if run.status != "SUCCEEDED":
                            raise RuntimeError(f"the retraining pipeline {run.status}: {run.error}")
                try:
                    rollout = current_rollout(store, "churn")
                except NotFound:
                    continue
                for _, d in rollout_history(store, "churn"):
                    if ("decision", d.time, d.action) not in seen:
                        seen.add(("decision", d.time, d.action))
                        verdict = f" ({d.verdict}, score {d.score:.0f})" if d.verdict else ""
                        print(f"   [{time.monotonic() - began:4.1f}s] rollout: {d.action}{verdict}: "
                              f"{d.weight_before}% -> {d.weight_after}%: {d.message.split('; ')[0]}")
                if rollout.state in ("promoted", "rolled_back", "aborted") and "pipeline" in state:
                    production = registry.get_version_by_alias("churn", "production").version
                    print(f"   final: the rollout is {rollout.state}; churn@production is churn/{production} "
                          f"({sent} requests sent)")
                    return {**state, "rollout": rollout.state, "production": int(production)}
                time.sleep(0.02)
        raise RuntimeError(f"the loop did not end within {deadline_s:.0f} s; see {logs}")
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(timeout=15)
            except Exception:
                proc.kill()
        store.dispose()


def _activate_hint() -> str:
    """How to put `stead` on the PATH, when the quickstart runs from a virtualenv that isn't active."""
    import os
    import shutil
    import sys

    scripts = Path(sys.executable).parent
    on_path = shutil.which("stead") == str(scripts / "stead")
    if on_path or not (scripts / "activate").exists():
        return ""
    try:
        activate = os.path.relpath(scripts / "activate")
    except ValueError:
        activate = str(scripts / "activate")
    return f", after `source {activate}`"


if __name__ == "__main__":
    main()

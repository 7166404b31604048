"""Churn: validate data -> train (tracked) -> evaluate -> register as `staging` only if good
-> (given a deployment) roll the new version out there as a canary.

    stead pipeline run examples/churn/pipeline.py:train_pipeline -p lr=0.1
    stead pipeline run examples/churn/pipeline.py:train_pipeline -p lr=0.1   # all cached
    stead pipeline graph <run id>
    stead schedule add weekly-churn --cron "0 0 * * 0" examples/churn/pipeline.py:train_pipeline

Retraining when a monitor alerts (the closed loop, docs/monitoring.md):

    stead monitor create churn-drift --deployment churn --every 1h --window 1h \
        --on-alert run:examples/churn/pipeline.py:train_pipeline

The monitor fills the parameters this pipeline declares: `deployment` (the monitored one) and
`dataset` (the newest version of the dataset the served model was trained on). The pipeline
then trains on that version, registers the model, points `churn@candidate` at it and starts a
canary rollout on the deployment (`rollout_step`, `rollout_max`, `rollout_interval` and
`rollout_checks` shape it). Rolling out is this pipeline's own decision, not the monitor's:
without `deployment` it only registers `churn@staging`, as before.
"""

from __future__ import annotations

import stead
import stead.pipelines as sp
from customers import FEATURES, make_customers
from registering import register_staging


@sp.step
def load_customers(rows: int, seed: int, dataset: str = "") -> "pandas.DataFrame":  # noqa: F821
    """A dataset version's table (``data:/customers@2``: every row), or a synthetic one."""
    if not dataset:
        return make_customers(rows, seed)
    from pathlib import Path

    import pandas as pd
    import stead.data

    local = Path(stead.data.get(dataset))
    files = sorted(local.rglob("*")) if local.is_dir() else [local]
    tables = [pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f)
              for f in files if f.suffix in (".csv", ".parquet")]
    if not tables:
        raise ValueError(f"{dataset} holds no CSV or Parquet file")
    df = pd.concat(tables, ignore_index=True)
    print(f"loaded {len(df)} rows of {dataset}")
    return df


@sp.step
def validate(df: "pandas.DataFrame") -> "pandas.DataFrame":  # noqa: F821
    """Refuse data that would train a bad model: missing columns, nulls, impossible values."""
    missing = [c for c in [*FEATURES, "churned"] if c not in df.columns]
    if missing:
        raise ValueError(f"customer data lacks columns {missing}")
    if df[FEATURES].isna().any().any():
        raise ValueError("customer data has empty feature values")
    if (df.tenure_months < 0).any() or not set(df.churned.unique()) <= {0, 1}:
        raise ValueError("customer data has impossible values")
    print(f"validated {len(df)} rows, churn rate {df.churned.mean():.2%}")
    return df


@sp.step(outputs=["model", "model_uri"], retries=1)
def train(df: "pandas.DataFrame", lr: float, n_estimators: int, dataset: str = ""):  # noqa: F821
    """Gradient boosting on the first 80% of rows, tracked as a stead run (whose input is
    ``dataset`` when given, so the registered version's reference statistics can be made)."""
    from sklearn.ensemble import GradientBoostingClassifier

    cut = int(len(df) * 0.8)
    with stead.start_run("churn", run_name="train") as run:
        if dataset:
            stead.log_input(dataset)
        run.log_params({"lr": lr, "n_estimators": n_estimators, "rows": cut})
        model = GradientBoostingClassifier(learning_rate=lr, n_estimators=n_estimators, random_state=0)
        model.fit(df[FEATURES][:cut], df.churned[:cut])
        run.log_metric("train_accuracy", float(model.score(df[FEATURES][:cut], df.churned[:cut])))
        stead.log_model(model, "model", input_example=df[FEATURES][:5])
        return model, f"runs:/{run.run_id}/model"


@sp.step
def evaluate(model: object, df: "pandas.DataFrame") -> float:  # noqa: F821
    """Accuracy on the held-out last 20% of rows."""
    cut = int(len(df) * 0.8)
    accuracy = float(model.score(df[FEATURES][cut:], df.churned[cut:]))
    print(f"holdout accuracy {accuracy:.3f}")
    return accuracy


@sp.step
def register(model_uri: str, accuracy: float) -> dict:
    """Register the model and point churn@staging at it."""
    return register_staging("churn", model_uri, accuracy)


@sp.step
def roll_out(registered: dict, deployment: str, step: int, max_weight: int, interval: float, checks: int) -> dict:
    """Given a deployment: point churn@candidate at the registered version and start a canary
    rollout of it there (the stead server's scheduler, or `stead deploy rollout watch`,
    then steps it up, promotes or rolls it back)."""
    if not deployment:
        return {"started": False, "note": "no deployment given: registered only"}
    if not registered.get("registered"):
        return {"started": False, "note": "the model was not registered: nothing to roll out"}
    from stead.monitoring import rollout
    from stead.registry.client import RegistryClient
    from stead.serving.deployments import Deployments
    from stead.store import open_store

    registry = RegistryClient.from_tracking(stead.get_client())  # the settings this run has
    settings = registry.settings
    registry.set_alias("churn", "candidate", registered["version"], reason="retrained: rolling out")
    store = getattr(registry.backend, "store", None) or open_store(settings.resolved_store_url)
    started = rollout.start(Deployments(store, registry), deployment, "churn@candidate", step=step,
                            max_weight=max_weight, interval_s=interval, checks=checks, user="pipeline")
    print(f"rollout {started.id}: churn@candidate (version {started.candidate_version}) takes {started.weight}% "
          f"of {deployment}")
    return {"started": True, "rollout": started.id, "deployment": deployment,
            "version": int(started.candidate_version), "weight": started.weight}


def _train_then_roll_out(rows, seed, lr, n_estimators, min_accuracy, deployment, dataset, rollout_step,
                         rollout_max, rollout_interval, rollout_checks):  # type: ignore[no-untyped-def]
    data = validate(load_customers(rows, seed, dataset))
    model, model_uri = train(data, lr, n_estimators, dataset)
    accuracy = evaluate(model, data)
    with sp.when(accuracy >= min_accuracy):
        registered = register(model_uri, accuracy)
        roll_out(registered, deployment, rollout_step, rollout_max, rollout_interval, rollout_checks)


@sp.pipeline
def train_pipeline(rows: int = 2000, seed: int = 7, lr: float = 0.1, n_estimators: int = 60,
                   min_accuracy: float = 0.7, deployment: str = "", dataset: str = "", rollout_step: int = 25,
                   rollout_max: int = 50, rollout_interval: float = 60.0, rollout_checks: int = 3):
    _train_then_roll_out(rows, seed, lr, n_estimators, min_accuracy, deployment, dataset, rollout_step, rollout_max,
                         rollout_interval, rollout_checks)


@sp.pipeline
def demo_retrain_pipeline(deployment: str = "", dataset: str = "", rollout_step: int = 25, rollout_max: int = 50,
                          rollout_interval: float = 3.0, rollout_checks: int = 3, n_estimators: int = 30):
    """train_pipeline for the quickstart's closed loop: a smaller model, a rollout judged every 3 s."""
    _train_then_roll_out(2000, 7, 0.1, n_estimators, 0.7, deployment, dataset, rollout_step, rollout_max,
                         rollout_interval, rollout_checks)

"""Churn: validate data -> train (tracked) -> evaluate -> register as `staging` only if good.

    stead pipeline run examples/churn/pipeline.py:train_pipeline -p lr=0.1
    stead pipeline run examples/churn/pipeline.py:train_pipeline -p lr=0.1   # all cached
    stead pipeline graph <run id>
    stead schedule add weekly-churn --cron "0 0 * * 0" examples/churn/pipeline.py:train_pipeline
"""

from __future__ import annotations

import stead
import stead.pipelines as sp
from customers import FEATURES, make_customers
from registering import register_staging


@sp.step
def load_customers(rows: int, seed: int) -> "pandas.DataFrame":  # noqa: F821
    """A synthetic customer table (swap for `data:/customers@latest` once it is versioned)."""
    return make_customers(rows, seed)


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
def train(df: "pandas.DataFrame", lr: float, n_estimators: int):  # noqa: F821
    """Gradient boosting on the first 80% of rows, tracked as a stead run."""
    from sklearn.ensemble import GradientBoostingClassifier

    cut = int(len(df) * 0.8)
    with stead.start_run("churn", run_name="train") as run:
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


@sp.pipeline
def train_pipeline(rows: int = 2000, seed: int = 7, lr: float = 0.1, n_estimators: int = 60,
                   min_accuracy: float = 0.7):
    data = validate(load_customers(rows, seed))
    model, model_uri = train(data, lr, n_estimators)
    accuracy = evaluate(model, data)
    with sp.when(accuracy >= min_accuracy):
        register(model_uri, accuracy)

"""A project with a churn model trained on a versioned dataset, made through the public API:
``stead.data.add`` versions the training table, a run logs it as its input
(``stead.log_input``) and logs a scikit-learn model with an input example (so the version
has a signature), and ``stead.register_model`` registers it as ``churn`` version 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "plan"]
LABEL = "churned"


def customers(rows: int, seed: int, *, charges_shift: float = 0.0) -> Any:
    """A churn-like table: integer, float and string features, a 0/1 label."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "customer_id": np.arange(1, rows + 1),
        "tenure_months": rng.integers(1, 72, rows),
        "monthly_charges": rng.normal(70 + charges_shift, 20, rows).round(2),
        "support_calls": rng.poisson(1.5, rows),
        "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]),
    })
    risk = -0.05 * df.tenure_months + 0.02 * df.monthly_charges + 0.6 * df.support_calls
    df[LABEL] = (risk + rng.normal(0, 1, rows) > risk.median()).astype(int)
    return df


@dataclass
class Project:
    root: Path
    store_url: str
    version: int

    @property
    def home(self) -> Path:
        return self.root / ".stead"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    def settings(self) -> Any:
        from stead.config import Settings

        return Settings(home=self.home, store_url=self.store_url, artifacts_url=str(self.artifacts))

    def env(self) -> dict[str, str]:
        return {"STEAD_HOME": str(self.home), "STEAD_STORE_URL": self.store_url,
                "STEAD_ARTIFACTS_URL": str(self.artifacts)}


def make_project(root: Path, store_url: str) -> Project:
    """Version ``data/customers.parquet`` as ``data:/customers@1``, train on it in a run that
    names it as its input, register the model as ``churn`` (version 1, alias ``production``)."""
    import stead.data
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from stead.registry.client import RegistryClient
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir()
    project = Project(root, store_url, 0)
    table = customers(2000, seed=7)
    table.to_parquet(root / "data" / "customers.parquet")
    settings = project.settings()
    uri = stead.data.add(root / "data" / "customers.parquet", "customers", settings=settings).version.uri
    client = TrackingClient(settings)
    fluent.set_client(client)
    try:
        with fluent.start_run("churn") as run:
            stead.log_input(uri)
            model = make_pipeline(
                make_column_transformer((OneHotEncoder(), ["plan"]), remainder="passthrough"),
                LogisticRegression(max_iter=1000),
            ).fit(table[FEATURES], table[LABEL])
            example = table[FEATURES].head(5)
            stead.log_model(model, "model", input_example=example)
        registry = RegistryClient(tracking=client, user="test")
        version = registry.register_model(f"runs:/{run.info.run_id}/model", "churn")
        registry.set_alias("churn", "production", version.version)
    finally:
        fluent.set_client(None)
        client.close()
    project.version = version.version
    return project

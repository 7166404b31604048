"""The churn examples' customer table: the quickstart versions it, the pipeline trains on it.

One generator for both, so that every model they make takes the same four columns and a
canary of one can stand in for another (`stead deploy create churn --canary churn@staging`).
"""

from __future__ import annotations

from typing import Any

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_monthly"]
LABEL = "churned"


def make_customers(rows: int, seed: int) -> Any:
    """A synthetic table of ``rows`` customers: integer and float features and a 0/1 label."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "customer_id": np.arange(1, rows + 1),
        "tenure_months": rng.integers(1, 72, rows),
        "monthly_charges": rng.normal(70, 20, rows).round(2),
        "support_calls": rng.poisson(1.5, rows),
        "contract_monthly": rng.integers(0, 2, rows),
    })
    risk = -0.05 * df.tenure_months + 0.02 * df.monthly_charges + 0.6 * df.support_calls + 1.2 * df.contract_monthly
    df[LABEL] = (risk + rng.normal(0, 1, rows) > risk.median()).astype(int)
    return df

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


def _risk(df: Any) -> Any:
    return -0.05 * df.tenure_months + 0.02 * df.monthly_charges + 0.6 * df.support_calls + 1.2 * df.contract_monthly


def make_next_month(rows: int, seed: int) -> Any:
    """A later month of customers: pricier (+25 a month) and newer (a third of the tenure), who
    churn by the same rule as the training table's (so the features drift, the rule does not)."""
    import numpy as np

    df = make_customers(rows, seed)
    df["monthly_charges"] = (df["monthly_charges"] + 25).round(2)
    df["tenure_months"] = (df["tenure_months"] // 3).clip(lower=1)
    threshold = _risk(make_customers(2000, 7)).median()  # the training table's line between churn and stay
    noise = np.random.default_rng(seed + 1000).normal(0, 1, rows)
    df[LABEL] = (_risk(df) + noise > threshold).astype(int)
    return df

"""Helpers for the rollout tests: model versions to roll out, and a prediction log written
with chosen times (serving's own ``PredictionLog`` writer), so ticks can be driven by ``now``."""

from __future__ import annotations

from typing import Any

import numpy as np

from serving_helpers import COLUMNS, Home, _register, training_data


class FailsForOlder:
    """A churn model that fails (RuntimeError, a 500) for every row with ``age > 0.5``."""

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        if (model_input["age"].to_numpy() > 0.5).any():
            raise RuntimeError("this candidate cannot score older customers")
        return np.zeros(len(model_input), dtype=np.int64)


def register_candidates(home: Home) -> tuple[int, int]:
    """``churn@candidate``: a retrained version 1 (the same answers); ``churn@broken``: a
    version that loads and warms up (its example has age <= 0.5) but fails for older rows."""
    import cloudpickle
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import rollout_helpers
    from stead.models.flavors.python_model import PythonModel
    from stead.models.log import log_model
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    x, y = training_data()
    good = _register(home, LogisticRegression().fit(x, y), x.iloc[:2])
    cloudpickle.register_pickle_by_value(rollout_helpers)
    model = type("Broken", (FailsForOlder, PythonModel), {})()
    fluent.set_client(TrackingClient(home.settings()))
    try:
        with fluent.start_run():
            example = pd.DataFrame([[0.0, 1.0, 2.0]], columns=COLUMNS)
            info = log_model(model, "model", input_example=example, registered_model_name="churn")
    finally:
        fluent.set_client(None)
    broken = int(info.registered_model_version)
    reg = home.registry()
    reg.set_alias("churn", "candidate", good)
    reg.set_alias("churn", "broken", broken)
    return good, broken


def write_log(artifacts: Any, start: float, end: float, counts: dict[str, tuple[int, int]],
              versions: dict[str, str], *, latency_ms: float = 2.0, seed: int = 0) -> dict[str, list[str]]:
    """Rows spread over ``[start, end)``: per variant (answered, failed) requests at its
    model version in ``versions``, all predicting 1 (so the variants' predictions agree),
    latencies near ``latency_ms``. Returns each variant's answered request ids."""
    from stead.serving.prediction_log import PredictionLog

    rng = np.random.default_rng(seed)
    rows = []
    for variant, (ok, failed) in counts.items():
        for i in range(ok + failed):
            t = start + (end - start) * rng.random()
            status = 200 if i < ok else 500
            outputs = {"predict": [1]} if status == 200 else None
            latency = latency_ms + rng.normal(0, 0.1)
            rows.append((t, variant, versions[variant], "mlflow", f"{variant}-{t}", latency, False, {"age": [0.0]},
                         outputs, status))
    rows.sort()
    log = PredictionLog(artifacts, "churn", flush_s=3600)
    try:
        log._write(rows)  # the writer the server uses, with times chosen by the test
    finally:
        log.close()
    answered: dict[str, list[str]] = {}
    for row in rows:
        if row[9] == 200:
            answered.setdefault(row[1], []).append(row[4])
    return answered

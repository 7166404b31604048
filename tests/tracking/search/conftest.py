"""A metadata store per test, on SQLite in tmp_path and (with STEAD_TEST_POSTGRES_URL) on
PostgreSQL in a schema of its own, seeded with a handful of experiments and runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from stead.store.engine import create_store_engine
from stead.store.tables import (
    experiment_tags,
    experiments,
    latest_metrics,
    metadata,
    params,
    run_inputs,
    runs,
    tags,
)

NAN = None  # latest_metrics.value NULL stands for NaN

EXPERIMENTS: list[tuple[int, str, str, int, int, dict[str, str]]] = [
    # id, name, stage, creation_time, last_update_time, tags
    (1, "churn-model", "active", 100, 500, {"team": "ml"}),
    (2, "Churn-v2", "active", 200, 300, {"team": "ML", "deprecated": "yes"}),
    (3, "fraud", "active", 200, 400, {}),
    (4, "old", "deleted", 300, 300, {"team": "ml"}),
]

RUNS = [
    # run_uuid, experiment, name, status, user, start, end, stage
    ("r1", 1, "alpha-one", "FINISHED", "alice", 1000, 2000, "active"),
    ("r2", 1, "Alpha-two", "FAILED", "bob", 2000, None, "active"),
    ("r3", 1, "beta", "RUNNING", "alice", 3000, None, "active"),
    ("r4", 1, "gamma", "FINISHED", "carol", 3000, 4000, "active"),
    ("r5", 2, "delta", "FINISHED", "dave", 500, 600, "active"),
    ("r6", 1, "gone", "FINISHED", "erin", 5000, 6000, "deleted"),
]

METRICS: dict[str, dict[str, float | None]] = {
    "r1": {"acc": 0.9, "loss": 0.1},
    "r2": {"acc": 0.7, "loss": NAN},
    "r3": {"loss": 0.5},
    "r4": {"acc": NAN, "loss": 0.2},
    "r5": {"acc": 1.0},
    "r6": {"acc": 0.99},
}

PARAMS = {
    "r1": {"lr": "0.01", "model": "CNN"},
    "r2": {"lr": "0.1", "model": "cnn"},
    "r3": {"lr": "0.001"},
    "r5": {"lr": "0.01"},
    "r6": {"lr": "0.01"},
}

TAGS = {
    "r1": {"team": "Vision", "env": "prod"},
    "r2": {"team": "vision"},
    "r3": {"team": "NLP", "env": "dev", "my tag": "50%_off"},
    "r4": {"glob": "a*b[1]?"},
    "r5": {"team": "Vision"},
    "r6": {"team": "Vision"},
}

INPUTS = [("r1", "train", "d1", "training"), ("r1", "holdout", "d2", "eval"), ("r2", "holdout", "d2", "eval")]


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(experiments),
            [
                dict(experiment_id=i, name=n, artifact_location=f"/a/{i}", lifecycle_stage=s,
                     creation_time=c, last_update_time=u)
                for i, n, s, c, u, _ in EXPERIMENTS
            ],
        )
        conn.execute(
            insert(experiment_tags),
            [dict(experiment_id=i, key=k, value=v) for i, *_, t in EXPERIMENTS for k, v in t.items()],
        )
        conn.execute(
            insert(runs),
            [
                dict(run_uuid=r, experiment_id=e, name=n, status=s, user_id=u, start_time=st,
                     end_time=en, lifecycle_stage=stage, artifact_uri=f"s3://b/{r}")
                for r, e, n, s, u, st, en, stage in RUNS
            ],
        )
        conn.execute(
            insert(latest_metrics),
            [dict(run_uuid=r, key=k, value=v, step=0, timestamp=0) for r, m in METRICS.items() for k, v in m.items()],
        )
        conn.execute(insert(params), [dict(run_uuid=r, key=k, value=v) for r, p in PARAMS.items() for k, v in p.items()])
        conn.execute(insert(tags), [dict(run_uuid=r, key=k, value=v) for r, t in TAGS.items() for k, v in t.items()])
        conn.execute(
            insert(run_inputs),
            [dict(run_uuid=r, name=n, digest=d, context=c) for r, n, d, c in INPUTS],
        )


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A seeded store, once per database (``store_url`` from tests/conftest.py gives each
    PostgreSQL test a schema of its own and skips without STEAD_TEST_POSTGRES_URL)."""
    engine = create_store_engine(store_url)
    try:
        metadata.create_all(engine)
        _seed(engine)
        yield engine
    finally:
        engine.dispose()

"""Experiment search compiled to SQL, on SQLite and PostgreSQL.

The seeded active experiments (conftest.py), by default order (creation_time DESC, then
experiment_id ASC): 2 "Churn-v2" (200), 3 "fraud" (200), 1 "churn-model" (100).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from stead.errors import InvalidParameter
from stead.store.tables import experiments
from stead.tracking.search import apply_experiment_search


def search(engine: Engine, filter_text: str | None = None, order_by: Sequence[str] | None = None) -> list[int]:
    base = select(experiments.c.experiment_id).where(experiments.c.lifecycle_stage == "active")
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(apply_experiment_search(base, filter_text, order_by))]


def test_default_order_is_creation_time_desc_then_id(engine: Engine) -> None:
    assert search(engine) == [2, 3, 1]


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("name = 'fraud'", [3]),
        ("attributes.name != 'fraud'", [2, 1]),
        ("name LIKE 'churn%'", [1]),
        ("name ILIKE 'churn%'", [2, 1]),
        ("tags.team = 'ml'", [1]),
        ("tags.team != 'ml'", [2]),  # experiments without the tag do not match !=
        ("tags.team LIKE 'M%'", [2]),
        ("tags.team ILIKE 'ML'", [2, 1]),
        ("tags.deprecated IS NULL", [3, 1]),
        ("tags.deprecated IS NOT NULL", [2]),
        ("creation_time >= 200", [2, 3]),
        ("last_update_time < 450 AND creation_time > 150", [2, 3]),
        ("attribute.last_update_time = 500", [1]),
    ],
)
def test_filters(engine: Engine, filter_text: str, expected: list[int]) -> None:
    assert search(engine, filter_text) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["name"], [2, 1, 3]),  # code point order: "Churn-v2" < "churn-model" < "fraud"
        (["name DESC"], [3, 1, 2]),
        # Ties on creation_time fall back to experiment_id DESC, as in MLflow.
        (["creation_time ASC"], [1, 3, 2]),
        (["last_update_time DESC"], [1, 3, 2]),
        (["experiment_id DESC"], [3, 2, 1]),
        (["creation_time DESC", "experiment_id ASC"], [2, 3, 1]),
    ],
)
def test_order_by(engine: Engine, order_by: list[str], expected: list[int]) -> None:
    assert search(engine, None, order_by) == expected


@pytest.mark.parametrize(
    ("filter_text", "order_by", "message"),
    [
        ("metrics.acc > 1", None, "unknown prefix 'metrics' at column 1; use attributes. or tags."),
        ("name IN ('a')", None, "comparator IN does not apply to name at column 6"),
        ("creation_time > 'yesterday'", None, "value 'yesterday' is not a number at column 17"),
        (None, ["tags.team"], "cannot order by tags at column 1; order by attributes"),
    ],
)
def test_errors(filter_text: str | None, order_by: list[str] | None, message: str) -> None:
    with pytest.raises(InvalidParameter, match=None) as info:
        apply_experiment_search(select(experiments.c.experiment_id), filter_text, order_by)
    assert message in str(info.value)

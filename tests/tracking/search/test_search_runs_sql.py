"""Run search compiled to SQL: exact result sets and orders, on SQLite and PostgreSQL.

The seeded runs (conftest.py), by default order (start_time DESC, then run_uuid):
r3 (3000), r4 (3000), r2 (2000), r1 (1000), r5 (500, experiment 2); r6 is deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from stead.errors import InvalidParameter
from stead.store.tables import runs
from stead.tracking.search import apply_run_search


def search(
    engine: Engine,
    filter_text: str | None = None,
    order_by: Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[str]:
    base = select(runs.c.run_uuid).where(runs.c.experiment_id.in_([1, 2]), runs.c.lifecycle_stage == "active")
    stmt = apply_run_search(base, filter_text, order_by).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(stmt)]


def test_default_order_is_start_time_desc_then_run_id(engine: Engine) -> None:
    assert search(engine) == ["r3", "r4", "r2", "r1", "r5"]
    assert search(engine, "", []) == ["r3", "r4", "r2", "r1", "r5"]


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("metrics.acc > 0.8", ["r1", "r5"]),
        ("metrics.acc = 0.7", ["r2"]),
        ("metrics.acc <= 1", ["r2", "r1", "r5"]),
        ("metrics.acc >= -1e3", ["r2", "r1", "r5"]),
        ("metrics.loss < 0.3", ["r4", "r1"]),
        # NaN (r4) differs from every number; a run lacking the metric (r3) never matches.
        ("metrics.acc != 0.9", ["r4", "r2", "r5"]),
        ("metrics.acc < 100 AND metrics.loss > 0", ["r1"]),
        ("metric.`acc` > 0.8", ["r1", "r5"]),
    ],
)
def test_metric_filters(engine: Engine, filter_text: str, expected: list[str]) -> None:
    assert search(engine, filter_text) == expected


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("params.lr = '0.01'", ["r1", "r5"]),
        ('params.lr = "0.01"', ["r1", "r5"]),
        ("params.model = 'cnn'", ["r2"]),
        ("params.model != 'CNN'", ["r2"]),  # runs without the param do not match !=
        ("params.model LIKE 'cnn'", ["r2"]),  # LIKE is case-sensitive on both databases
        ("params.model LIKE 'C%'", ["r1"]),
        ("params.model ILIKE 'cnn'", ["r2", "r1"]),
        ("params.model IS NULL", ["r3", "r4", "r5"]),
        ("params.model IS NOT NULL", ["r2", "r1"]),
        ("param.lr LIKE '0.0_'", ["r1", "r5"]),
    ],
)
def test_param_filters(engine: Engine, filter_text: str, expected: list[str]) -> None:
    assert search(engine, filter_text) == expected


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("tags.team = 'Vision'", ["r1", "r5"]),
        ("tags.team LIKE 'V%'", ["r1", "r5"]),
        ("tags.team LIKE 'v%'", ["r2"]),
        ("tags.team ILIKE 'V%'", ["r2", "r1", "r5"]),
        ("tags.team ILIKE '%ISION'", ["r2", "r1", "r5"]),
        ("tags.env IS NULL", ["r4", "r2", "r5"]),
        ("tags.env IS NOT NULL", ["r3", "r1"]),
        ("tags.env IS NOT NULL AND tags.team LIKE 'N%'", ["r3"]),
        # \ escapes % and _ (identically on both databases).
        ("tags.`my tag` LIKE '50\\%\\_off'", ["r3"]),
        ("tags.`my tag` LIKE '50\\_%'", []),
        ("tags.`my tag` LIKE '50%off'", ["r3"]),
        ("tags.`my tag` ILIKE '50\\%\\_OFF'", ["r3"]),
        ("tags.`my tag` ILIKE '50\\_%'", []),
        # GLOB's own wildcards are plain characters in a LIKE pattern.
        ("tags.glob LIKE 'a*b[1]?'", ["r4"]),
        ("tags.glob LIKE 'a_b[1]_'", ["r4"]),
        ("tags.glob LIKE 'a%b%'", ["r4"]),
        ("tags.glob LIKE 'aXb[1]?'", []),
        ("tags.glob LIKE 'A%'", []),
        ("tags.glob ILIKE 'A%'", ["r4"]),
    ],
)
def test_tag_filters(engine: Engine, filter_text: str, expected: list[str]) -> None:
    assert search(engine, filter_text) == expected


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("run_id IN ('r1', 'r3', 'zz')", ["r3", "r1"]),
        ("attributes.run_id NOT IN ('r1', 'r3')", ["r4", "r2", "r5"]),
        ("run_uuid = 'r2'", ["r2"]),
        ("attributes.run_name LIKE 'alpha%'", ["r1"]),
        ("run_name ILIKE 'ALPHA%'", ["r2", "r1"]),
        ("`Run Name` = 'beta'", ["r3"]),
        ("tags.mlflow.runName = 'beta'", ["r3"]),
        ("tags.`mlflow.runName` LIKE '%a'", ["r3", "r4", "r5"]),
        ("tags.mlflow.runName IS NULL", []),
        ("status = 'FINISHED'", ["r4", "r1", "r5"]),
        ("attr.status != 'FINISHED'", ["r3", "r2"]),
        ("start_time >= 2000 AND start_time < 3000", ["r2"]),
        ("created > 2500", ["r3", "r4"]),
        ("end_time > 1000", ["r4", "r1"]),  # running runs (no end_time) never match
        ("user_id = 'alice' AND metrics.loss > 0.3", ["r3"]),
        ("experiment_id = '2'", ["r5"]),
        ("experiment_id != 2", ["r3", "r4", "r2", "r1"]),
        ("artifact_uri LIKE 's3://b/r_'", ["r3", "r4", "r2", "r1", "r5"]),
        ("lifecycle_stage = 'active'", ["r3", "r4", "r2", "r1", "r5"]),
    ],
)
def test_attribute_filters(engine: Engine, filter_text: str, expected: list[str]) -> None:
    assert search(engine, filter_text) == expected


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("datasets.name = 'train'", ["r1"]),
        ("datasets.digest IN ('d2')", ["r2", "r1"]),
        ("datasets.context LIKE 'train%'", ["r1"]),
    ],
)
def test_dataset_filters(engine: Engine, filter_text: str, expected: list[str]) -> None:
    assert search(engine, filter_text) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        # Numbers, then NaN (r4), then runs lacking the metric (r3), in both directions.
        (["metrics.acc DESC"], ["r5", "r1", "r2", "r4", "r3"]),
        (["metrics.acc"], ["r2", "r1", "r5", "r4", "r3"]),
        (["metrics.loss ASC"], ["r1", "r4", "r3", "r2", "r5"]),
        (["metrics.loss DESC"], ["r3", "r4", "r1", "r2", "r5"]),
        # Params are strings; ties fall back to start_time DESC, then run_uuid.
        (["params.lr"], ["r3", "r1", "r5", "r2", "r4"]),
        (["params.lr DESC"], ["r2", "r1", "r5", "r3", "r4"]),
        # Strings sort by code point on both databases ("V" < "v"); missing tag last.
        (["tags.team"], ["r3", "r1", "r5", "r2", "r4"]),
        (["tags.team desc"], ["r2", "r1", "r5", "r3", "r4"]),
        (["run_name"], ["r2", "r1", "r3", "r5", "r4"]),
        (["tags.mlflow.runName DESC"], ["r4", "r5", "r3", "r1", "r2"]),
        # A NULL end_time (running) sorts last in both directions.
        (["end_time DESC"], ["r4", "r1", "r5", "r3", "r2"]),
        (["attributes.end_time ASC"], ["r5", "r1", "r4", "r3", "r2"]),
        # Ordering by start_time replaces the default; run_uuid still breaks the tie.
        (["attributes.start_time ASC"], ["r5", "r1", "r2", "r3", "r4"]),
        (["status", "metrics.acc DESC"], ["r2", "r5", "r1", "r4", "r3"]),
        (["experiment_id DESC", "run_id DESC"], ["r5", "r4", "r3", "r2", "r1"]),
    ],
)
def test_order_by(engine: Engine, order_by: list[str], expected: list[str]) -> None:
    assert search(engine, None, order_by) == expected


def test_filter_and_order_together(engine: Engine) -> None:
    assert search(engine, "params.lr = '0.01'", ["metrics.acc"]) == ["r1", "r5"]
    assert search(engine, "tags.team ILIKE 'v%' AND metrics.acc > 0", ["metrics.acc DESC"]) == ["r5", "r1", "r2"]


def test_several_ordered_keys_on_joined_tables(engine: Engine) -> None:
    order = ["tags.team", "params.lr DESC", "metrics.loss"]
    assert search(engine, None, order) == ["r3", "r1", "r5", "r2", "r4"]


def test_pages_are_stable_and_cover_every_run(engine: Engine) -> None:
    order = ["metrics.acc DESC"]
    pages = [search(engine, None, order, limit=2, offset=o) for o in (0, 2, 4)]
    assert pages == [["r5", "r1"], ["r2", "r4"], ["r3"]]


def test_deleted_runs_stay_out_when_the_base_select_excludes_them(engine: Engine) -> None:
    assert "r6" not in search(engine, "metrics.acc > 0.95")


@pytest.mark.parametrize(
    ("filter_text", "order_by"),
    [("metrics.acc LIKE 'x'", None), ("nope = 'x'", None), (None, ["metrics.acc SIDEWAYS"])],
)
def test_bad_input_raises_before_any_sql(filter_text: str | None, order_by: list[str] | None) -> None:
    with pytest.raises(InvalidParameter):
        apply_run_search(select(runs.c.run_uuid), filter_text, order_by)

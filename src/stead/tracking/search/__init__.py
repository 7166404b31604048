"""MLflow's search syntax for runs and experiments: parsed with a lark grammar, compiled to SQL.

    from stead.tracking.search import apply_run_search
    stmt = apply_run_search(select(runs.c.run_uuid).where(...), "metrics.acc > 0.9", ["metrics.acc DESC"])

``parse_*`` turn text into plain dataclasses (``Comparison``, ``OrderKey``) without a
database; ``apply_*`` add the WHERE and ORDER BY clauses to a SQLAlchemy ``Select`` that
behaves the same on SQLite and PostgreSQL. Every bad input raises
``stead.errors.InvalidParameter`` with one line that quotes it. The syntax: docs/search.md.
"""

from stead.tracking.search.ast import Comparison, OrderKey
from stead.tracking.search.compile_experiments import apply_experiment_search
from stead.tracking.search.compile_runs import apply_run_search
from stead.tracking.search.parse import (
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_order_by,
    parse_run_filter,
)

__all__ = [
    "Comparison",
    "OrderKey",
    "parse_run_filter",
    "parse_order_by",
    "apply_run_search",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "apply_experiment_search",
]

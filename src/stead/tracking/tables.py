"""Tracking's tables beyond the core ones: MLflow 3 logged models, their tags, params and
the runs that output them (``stead.tracking.logged_models``).

Created by migration ``0101_logged_models`` (on the ``server`` branch, where logged models
first arrived: a revision keeps its place once databases carry it); a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from stead.store.tables import BigId, metadata

__all__ = ["logged_models", "logged_model_tags", "logged_model_params", "logged_model_outputs"]

# MLflow 3 logged models (``mlflow.<flavor>.log_model`` creates one per call): the model's
# files live under its experiment's artifact location, ``<exp>/models/<model_id>/artifacts``.
logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column("experiment_id", BigId, nullable=False),
    Column("name", String(500), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("status_message", Text, nullable=True),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("model_type", String(500), nullable=True),
    Column("source_run_id", String(32), nullable=True),
    Column("creator", String(255), nullable=True),
    Index("ix_logged_models_experiment", "experiment_id", "creation_timestamp_ms"),
    Index("ix_logged_models_run", "source_run_id"),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(64), ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", String(64), ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

# ``runs/outputs``: which logged models a run produced, at which step.
logged_model_outputs = Table(
    "logged_model_outputs",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column("model_id", String(64), ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("step", BigInteger, nullable=False),
)

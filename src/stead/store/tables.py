"""The tracking tables of the metadata store, as SQLAlchemy Core metadata.

The migrations under ``store/migrations/versions`` create exactly these; a test compares
the two. On SQLite the tables keyed by (run_uuid, key) are WITHOUT ROWID: the primary key is
the table itself, so loading a run's values or probing one key is a single B-tree lookup. Other concepts (registry, data, pipelines, serving) define their tables in their
own modules on the same ``metadata`` object, each with its own migration branch.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "metadata",
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "tags",
    "metrics",
    "latest_metrics",
    "run_inputs",
    "environments",
    "BigId",
]

metadata = MetaData()

# An autoincrementing 64-bit id that is SQLite's fast rowid there.
BigId = BigInteger().with_variant(Integer, "sqlite")

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False, unique=True),
    Column("artifact_location", Text, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False, server_default="active"),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        BigId,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column(
        "experiment_id",
        BigId,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(250), nullable=False, server_default=""),
    Column("user_id", String(256), nullable=False, server_default=""),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("lifecycle_stage", String(32), nullable=False, server_default="active"),
    Column("artifact_uri", Text, nullable=False),
    Column("parent_run_id", String(32), nullable=True),
    Column("deleted_time", BigInteger, nullable=True),
    Column("environment_hash", String(64), nullable=True),
    Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
    Index("ix_runs_parent", "parent_run_id"),
)

params = Table(
    "params",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_params_key", "key"),
    sqlite_with_rowid=False,
)

tags = Table(
    "tags",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_tags_key", "key"),
    sqlite_with_rowid=False,
)

# Every logged point. ``value`` NULL stands for NaN, since SQLite cannot store NaN.
metrics = Table(
    "metrics",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Float(precision=53), nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_metrics_run_key_step", "run_uuid", "key", "step", "timestamp"),
)

# The value searches filter and sort on: the point with the highest (step, timestamp).
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Float(precision=53), nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_latest_metrics_key_value", "key", "value"),
    sqlite_with_rowid=False,
)

# What a run consumed: dataset versions (data:/name@N) or MLflow dataset inputs.
run_inputs = Table(
    "run_inputs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("digest", String(64), nullable=False, server_default=""),
    Column("source_type", String(64), nullable=False, server_default=""),
    Column("source", Text, nullable=False, server_default=""),
    Column("schema", Text, nullable=True),
    Column("profile", Text, nullable=True),
    Column("context", String(64), nullable=False, server_default=""),
    Column("uri", Text, nullable=True),
    Index("ix_run_inputs_run", "run_uuid"),
    Index("ix_run_inputs_name", "name"),
)

# Installed packages and interpreter, shared by every run made in the same environment.
environments = Table(
    "environments",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("python", String(64), nullable=False),
    Column("packages", Text, nullable=False),
)

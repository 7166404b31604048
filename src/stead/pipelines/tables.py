"""The pipeline tables: runs, step runs, the output cache, schedules and schedule fires.

Created by the ``pipelines`` migration branch (``0400_pipelines``); a test compares both.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from stead.store.tables import metadata

__all__ = ["pipeline_runs", "pipeline_steps", "pipeline_cache", "pipeline_schedules", "pipeline_schedule_fires"]

pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("pipeline", String(250), nullable=False),
    Column("source", Text, nullable=False),
    Column("params", Text, nullable=False, server_default="{}"),
    Column("executor", String(32), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("start_time", BigInteger, nullable=True),
    Column("end_time", BigInteger, nullable=True),
    Column("graph", Text, nullable=False, server_default="{}"),
    Column("error", Text, nullable=True),
    Column("no_cache", Boolean, nullable=False, server_default="0"),
    Column("resumed_from", String(32), nullable=True),
    Column("trigger", String(250), nullable=False, server_default="manual"),
    Index("ix_pipeline_runs_pipeline_created", "pipeline", "created_time"),
    Index("ix_pipeline_runs_created", "created_time"),
)

pipeline_steps = Table(
    "pipeline_steps",
    metadata,
    Column("run_id", String(32), ForeignKey("pipeline_runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("step_id", String(250), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("step", String(250), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("cache_key", String(64), nullable=True),
    Column("cache_hit", Boolean, nullable=False, server_default="0"),
    Column("start_time", BigInteger, nullable=True),
    Column("end_time", BigInteger, nullable=True),
    Column("duration", Float(precision=53), nullable=True),
    Column("outputs", Text, nullable=False, server_default="[]"),
    Column("logs", Text, nullable=False, server_default=""),
    Column("error", Text, nullable=True),
    Column("tracking_run_id", String(32), nullable=True),
)

# A succeeded cacheable step call: cache key -> its outputs (JSON list of StoredOutput).
pipeline_cache = Table(
    "pipeline_cache",
    metadata,
    Column("cache_key", String(64), primary_key=True),
    Column("step", String(250), nullable=False),
    Column("outputs", Text, nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("created_time", BigInteger, nullable=False),
)

pipeline_schedules = Table(
    "pipeline_schedules",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("source", Text, nullable=False),
    Column("cron", String(120), nullable=False),
    Column("params", Text, nullable=False, server_default="{}"),
    Column("executor", String(32), nullable=False, server_default="local"),
    Column("created_time", BigInteger, nullable=False),
)

# One row per fire time: the primary key is the claim, so two schedulers cannot both fire.
pipeline_schedule_fires = Table(
    "pipeline_schedule_fires",
    metadata,
    Column("schedule", String(250), ForeignKey("pipeline_schedules.name", ondelete="CASCADE"), primary_key=True),
    Column("fire_time", BigInteger, primary_key=True),
    Column("status", String(20), nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("claimed_by", String(250), nullable=False),
    Column("claimed_time", BigInteger, nullable=False),
)

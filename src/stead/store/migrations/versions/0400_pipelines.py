"""Pipelines: runs, step runs, output cache, schedules and schedule fires.

Revision ID: 0400_pipelines
"""

import sqlalchemy as sa
from alembic import op

revision = "0400_pipelines"
down_revision = None
branch_labels = ("pipelines",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("pipeline", sa.String(250), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("executor", sa.String(32), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=True),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("graph", sa.Text, nullable=False, server_default="{}"),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("no_cache", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("resumed_from", sa.String(32), nullable=True),
        sa.Column("trigger", sa.String(250), nullable=False, server_default="manual"),
    )
    op.create_index("ix_pipeline_runs_pipeline_created", "pipeline_runs", ["pipeline", "created_time"])
    op.create_index("ix_pipeline_runs_created", "pipeline_runs", ["created_time"])
    op.create_table(
        "pipeline_steps",
        sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("pipeline_runs.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("step_id", sa.String(250), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("step", sa.String(250), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cache_key", sa.String(64), nullable=True),
        sa.Column("cache_hit", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("start_time", sa.BigInteger, nullable=True),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("duration", sa.Float(precision=53), nullable=True),
        sa.Column("outputs", sa.Text, nullable=False, server_default="[]"),
        sa.Column("logs", sa.Text, nullable=False, server_default=""),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("tracking_run_id", sa.String(32), nullable=True),
    )
    op.create_table(
        "pipeline_cache",
        sa.Column("cache_key", sa.String(64), primary_key=True),
        sa.Column("step", sa.String(250), nullable=False),
        sa.Column("outputs", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "pipeline_schedules",
        sa.Column("name", sa.String(250), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("cron", sa.String(120), nullable=False),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("executor", sa.String(32), nullable=False, server_default="local"),
        sa.Column("created_time", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "pipeline_schedule_fires",
        sa.Column(
            "schedule",
            sa.String(250),
            sa.ForeignKey("pipeline_schedules.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("fire_time", sa.BigInteger, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("claimed_by", sa.String(250), nullable=False),
        sa.Column("claimed_time", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pipeline_schedule_fires")
    op.drop_table("pipeline_schedules")
    op.drop_table("pipeline_cache")
    op.drop_table("pipeline_steps")
    op.drop_index("ix_pipeline_runs_created", table_name="pipeline_runs")
    op.drop_index("ix_pipeline_runs_pipeline_created", table_name="pipeline_runs")
    op.drop_table("pipeline_runs")

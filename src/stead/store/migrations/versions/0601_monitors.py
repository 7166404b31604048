"""Monitoring: scheduled monitors, their runs, and alert events.

Revision ID: 0601_monitors
"""

import sqlalchemy as sa
from alembic import op

revision = "0601_monitors"
down_revision = "0600_monitoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("deployment", sa.String(255), nullable=False),
        sa.Column("every_s", sa.Float, nullable=False),
        sa.Column("window_s", sa.Float, nullable=False),
        sa.Column("drift_share", sa.Float, nullable=False),
        sa.Column("minimums", sa.Text, nullable=False),
        sa.Column("on_alert", sa.Text, nullable=True),
        sa.Column("next_due", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "monitor_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("monitor", sa.String(255), nullable=False),
        sa.Column("deployment", sa.String(255), nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("report_uri", sa.Text, nullable=True),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index("ix_monitor_runs_monitor_time", "monitor_runs", ["monitor", "time"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("deployment", sa.String(255), nullable=True),
        sa.Column("monitor", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("annotations", sa.Text, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("action", sa.Text, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
    )
    op.create_index("ix_alert_events_time", "alert_events", ["time"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_time", "alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_monitor_runs_monitor_time", "monitor_runs")
    op.drop_table("monitor_runs")
    op.drop_table("monitors")

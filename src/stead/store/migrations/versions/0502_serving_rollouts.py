"""Serving: progressive rollouts and every decision made on them.

Revision ID: 0502_serving_rollouts
"""

import sqlalchemy as sa
from alembic import op

revision = "0502_serving_rollouts"
down_revision = "0501_serving_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("deployment", sa.String(255), nullable=False),
        sa.Column("variant", sa.String(64), nullable=False),
        sa.Column("candidate", sa.String(512), nullable=False),
        sa.Column("candidate_version", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("max_weight", sa.Integer, nullable=False),
        sa.Column("interval_s", sa.Float, nullable=False),
        sa.Column("checks", sa.Integer, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("user_id", sa.String(256), nullable=False, server_default=""),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rollouts_deployment_state", "rollouts", ["deployment", "state"])
    op.create_table(
        "rollout_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rollout_id", sa.Integer, sa.ForeignKey("rollouts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=True),
        sa.Column("weight_before", sa.Integer, nullable=False),
        sa.Column("weight_after", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("analysis", sa.Text, nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_rollout_decisions_rollout", "rollout_decisions", ["rollout_id", "time"])


def downgrade() -> None:
    op.drop_index("ix_rollout_decisions_rollout", "rollout_decisions")
    op.drop_table("rollout_decisions")
    op.drop_index("ix_rollouts_deployment_state", "rollouts")
    op.drop_table("rollouts")

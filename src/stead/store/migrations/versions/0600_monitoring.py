"""Monitoring: reference statistics per model version.

Revision ID: 0600_monitoring
"""

import sqlalchemy as sa
from alembic import op

revision = "0600_monitoring"
down_revision = None
branch_labels = ("monitoring",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "reference_stats",
        sa.Column("model_name", sa.String(255), primary_key=True),
        sa.Column("model_version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("prediction", sa.String(255), nullable=True),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("stats", sa.Text, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reference_stats")

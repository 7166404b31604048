"""Serving: a deployment's strategy (canary, blue-green) and what each model server reports.

Revision ID: 0501_serving_health
"""

import sqlalchemy as sa
from alembic import op

revision = "0501_serving_health"
down_revision = "0500_serving"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deployments", sa.Column("strategy", sa.String(32), nullable=False, server_default="canary"))
    op.create_table(
        "deployment_health",
        sa.Column("deployment", sa.String(255), primary_key=True),
        sa.Column("server", sa.String(255), primary_key=True),
        sa.Column("variant", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("reported_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment_health")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("strategy")

"""Serving: deployments and their variants (weights, shadows).

Revision ID: 0500_serving
"""

import sqlalchemy as sa
from alembic import op

revision = "0500_serving"
down_revision = None
branch_labels = ("serving",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("sticky_header", sa.String(255), nullable=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "deployment_variants",
        sa.Column("deployment", sa.String(255), sa.ForeignKey("deployments.name", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("variant", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.Column("shadow", sa.Integer, nullable=False, server_default="0"),
        sa.Column("position", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment_variants")
    op.drop_table("deployments")

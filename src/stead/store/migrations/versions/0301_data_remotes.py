"""Data: the team's named data remotes, shared through the metadata store.

Revision ID: 0301_data_remotes
"""

import sqlalchemy as sa
from alembic import op

revision = "0301_data_remotes"
down_revision = "0300_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_remotes",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("data_remotes")

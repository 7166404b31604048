"""Server: users, API tokens, experiment and registered-model permissions.

Revision ID: 0100_server
"""

import sqlalchemy as sa
from alembic import op

revision = "0100_server"
down_revision = None
branch_labels = ("server",)
depends_on = "0001_core"

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(255), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("created_time", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.Column("revoked_time", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id"])
    op.create_table(
        "experiment_permissions",
        sa.Column("experiment_id", sa.String(32), primary_key=True),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("permission", sa.String(16), nullable=False),
    )
    op.create_index("ix_experiment_permissions_user", "experiment_permissions", ["user_id"])
    op.create_table(
        "registered_model_permissions",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("permission", sa.String(16), nullable=False),
    )
    op.create_index("ix_registered_model_permissions_user", "registered_model_permissions", ["user_id"])


def downgrade() -> None:
    for name in ("registered_model_permissions", "experiment_permissions", "api_tokens", "users"):
        op.drop_table(name)

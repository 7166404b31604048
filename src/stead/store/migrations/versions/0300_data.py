"""Data sets and their versions.

Revision ID: 0300_data
"""

import sqlalchemy as sa
from alembic import op

revision = "0300_data"
down_revision = None
branch_labels = ("data",)
depends_on = "0001_core"

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("dataset_id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "dataset_versions",
        sa.Column(
            "dataset_id",
            BigId,
            sa.ForeignKey("datasets.dataset_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("manifest_hash", sa.String(64), nullable=False),
        sa.Column("manifest", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.String(8), nullable=False, server_default="dir"),
        sa.Column("num_files", sa.BigInteger, nullable=False),
        sa.Column("num_bytes", sa.BigInteger, nullable=False),
        sa.Column("profile", sa.Text, nullable=True),
        sa.Column("user_id", sa.String(256), nullable=False, server_default=""),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_dataset_versions_manifest", "dataset_versions", ["manifest_hash"])
    op.create_index("ix_dataset_versions_run", "dataset_versions", ["run_id"])


def downgrade() -> None:
    op.drop_table("dataset_versions")
    op.drop_table("datasets")

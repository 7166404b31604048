"""Server: MLflow 3 logged models, their tags, params and run outputs.

Revision ID: 0101_logged_models
"""

import sqlalchemy as sa
from alembic import op

revision = "0101_logged_models"
down_revision = "0100_server"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column("experiment_id", BigId, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.Text, nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("status_message", sa.Text, nullable=True),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("model_type", sa.String(500), nullable=True),
        sa.Column("source_run_id", sa.String(32), nullable=True),
        sa.Column("creator", sa.String(255), nullable=True),
    )
    op.create_index("ix_logged_models_experiment", "logged_models", ["experiment_id", "creation_timestamp_ms"])
    op.create_index("ix_logged_models_run", "logged_models", ["source_run_id"])
    for name in ("logged_model_tags", "logged_model_params"):
        op.create_table(
            name,
            sa.Column("model_id", sa.String(64), sa.ForeignKey("logged_models.model_id", ondelete="CASCADE"),
                      primary_key=True),
            sa.Column("key", sa.String(250), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
    op.create_table(
        "logged_model_outputs",
        sa.Column("run_uuid", sa.String(32), primary_key=True),
        sa.Column("model_id", sa.String(64), sa.ForeignKey("logged_models.model_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("step", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for name in ("logged_model_outputs", "logged_model_params", "logged_model_tags", "logged_models"):
        op.drop_table(name)

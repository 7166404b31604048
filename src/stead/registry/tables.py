"""The registry's tables: registered models, versions, tags, aliases and the alias audit log.

Created by the ``registry`` migration branch (``0200_registry``); a test compares the two.
Versions, tags and aliases hang off the model's numeric id, so a rename touches one row.
The audit log keeps the id and the name at the time, with no foreign key: it outlives the
model (ids are never reused: AUTOINCREMENT on SQLite, a sequence on PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from stead.store.tables import BigId, metadata

__all__ = [
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "registered_model_aliases",
    "alias_events",
]

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("name_key", String(255), nullable=False, unique=True),  # NFKC: look-alikes clash
    Column("description", Text, nullable=False, server_default=""),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("model_id", BigId, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("model_id", BigId, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("user_id", String(256), nullable=False, server_default=""),
    Column("current_stage", String(20), nullable=False, server_default="None"),
    Column("source", Text, nullable=False),
    Column("storage_location", Text, nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("run_link", Text, nullable=True),
    Column("logged_model_id", String(64), nullable=True),
    Column("status", String(32), nullable=False, server_default="READY"),
    Column("status_message", Text, nullable=False, server_default=""),
    Column("signature", Text, nullable=True),  # JSON: {"inputs": ..., "outputs": ..., "params": ...}
    Column("flavors", Text, nullable=False, server_default="[]"),  # JSON list of flavor names
    Column("metrics", Text, nullable=False, server_default="{}"),  # JSON: the run's metrics then
    Column("datasets", Text, nullable=False, server_default="[]"),  # JSON: the run's inputs then
    Column("git_commit", String(64), nullable=True),
    Column("deleted_time", BigInteger, nullable=True),  # numbers are never reused
    Index("ix_model_versions_run", "run_id"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("model_id", BigId, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(
        ["model_id", "version"],
        ["model_versions.model_id", "model_versions.version"],
        ondelete="CASCADE",
    ),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("model_id", BigId, primary_key=True),
    Column("alias", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
    ForeignKeyConstraint(
        ["model_id", "version"],
        ["model_versions.model_id", "model_versions.version"],
        ondelete="CASCADE",
    ),
)

alias_events = Table(
    "alias_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("model_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("alias", String(255), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=True),
    Column("user_id", String(256), nullable=False, server_default=""),
    Column("reason", Text, nullable=False, server_default=""),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_alias_events_model_alias", "model_id", "alias", "id"),
    sqlite_autoincrement=True,
)

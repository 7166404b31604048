"""Data set tables of the metadata store (migration branch ``data``: 0300_data, 0301_data_remotes)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from stead.store.tables import BigId, metadata

__all__ = ["datasets", "dataset_versions", "data_remotes"]

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
)

# One row per version. ``manifest`` is the JSON manifest (path -> hash, size), also stored
# as the cache object named ``manifest_hash``; ``profile`` is JSON (see data/profile.py).
dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("dataset_id", BigId, ForeignKey("datasets.dataset_id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("manifest_hash", String(64), nullable=False),
    Column("manifest", Text, nullable=False),
    Column("path", Text, nullable=False, server_default=""),
    Column("kind", String(8), nullable=False, server_default="dir"),
    Column("num_files", BigInteger, nullable=False),
    Column("num_bytes", BigInteger, nullable=False),
    Column("profile", Text, nullable=True),
    Column("user_id", String(256), nullable=False, server_default=""),
    Column("run_id", String(32), nullable=True),
    Column("message", Text, nullable=False, server_default=""),
    Column("creation_time", BigInteger, nullable=False),
    Index("ix_dataset_versions_manifest", "manifest_hash"),
    Index("ix_dataset_versions_run", "run_id"),
)

# The team's named data remotes (``stead remote add``); a home's remotes.toml overrides them.
data_remotes = Table(
    "data_remotes",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("is_default", Boolean, nullable=False, server_default="0"),
    Column("creation_time", BigInteger, nullable=False),
)

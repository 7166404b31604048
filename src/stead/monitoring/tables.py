"""The monitoring tables: the reference statistics each model version is checked against.

Created by the ``monitoring`` migration branch (``0600_monitoring``); a test compares the
two. One row per model version (name and number, not the registry's numeric id: the
statistics are looked up by what a user types, ``churn@3``), holding the compact statistics
of ``stead.monitoring.reference`` as JSON (kilobytes, whatever the size of the data) and
where they came from. No foreign key into the registry: its versions are soft-deleted and
their numbers never reused, so a row can outlive nothing it should not. Monitors and their
reports, when they come, are more tables here and more revisions on the same branch
(``0601_...`` with ``down_revision = "0600_monitoring"``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from stead.store.tables import metadata

__all__ = ["reference_stats"]

reference_stats = Table(
    "reference_stats",
    metadata,
    Column("model_name", String(255), primary_key=True),
    Column("model_version", Integer, primary_key=True, autoincrement=False),
    Column("source", Text, nullable=False),  # data:/customers@4, a file name, or "table"
    Column("source_kind", String(16), nullable=False),  # dataset, file, table
    Column("prediction", String(255), nullable=True),  # the model-output column, if measured
    Column("row_count", BigInteger, nullable=False),
    Column("stats", Text, nullable=False),  # ReferenceStats.to_json()
    Column("user_id", String(256), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),  # ms since the epoch
)

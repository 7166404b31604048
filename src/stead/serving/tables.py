"""The serving tables: deployments and their variants.

Created by the ``serving`` migration branch (``0500_serving``); a test compares the two.
A variant names a model by reference (``churn@production``, ``churn/3``), not by version:
the server resolves the reference and follows alias moves.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table, Text

from stead.store.tables import metadata

__all__ = ["deployments", "deployment_variants"]

deployments = Table(
    "deployments",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("sticky_header", String(255), nullable=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

deployment_variants = Table(
    "deployment_variants",
    metadata,
    Column("deployment", String(255), ForeignKey("deployments.name", ondelete="CASCADE"), primary_key=True),
    Column("variant", String(64), primary_key=True),
    Column("model", String(512), nullable=False),
    Column("weight", Integer, nullable=False),
    Column("shadow", Integer, nullable=False, server_default="0"),
    Column("position", Integer, nullable=False),
)

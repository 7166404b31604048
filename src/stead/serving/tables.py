"""The serving tables: deployments, their variants, and what each model server reports.

Created by the ``serving`` migration branch (``0500_serving``, ``0501_serving_health``); a
test compares the two. A variant names a model by reference (``churn@production``,
``churn/3``), not by version: the server resolves the reference and follows alias moves.
``deployment_health`` holds one row per (deployment, server process, variant): what that
process serves and whether it loaded, refreshed on every poll and valid until
``expires_at``, so a promotion can check the servers without asking them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Integer, String, Table, Text

from stead.store.tables import metadata

__all__ = ["deployments", "deployment_variants", "deployment_health"]

deployments = Table(
    "deployments",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("sticky_header", String(255), nullable=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("strategy", String(32), nullable=False, server_default="canary"),
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

deployment_health = Table(
    "deployment_health",
    metadata,
    Column("deployment", String(255), primary_key=True),
    Column("server", String(255), primary_key=True),
    Column("variant", String(64), primary_key=True),
    Column("model", String(512), nullable=False),
    Column("model_version", String(64), nullable=True),
    Column("state", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("weight", Float, nullable=False),
    Column("reported_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

"""The server's tables: users, API tokens, and per-experiment / per-model permissions.

Created by the ``server`` migration branch (``0100_server``); a test compares the two.
Passwords are stored as scrypt hashes, tokens as SHA-256 digests (they are random and long,
so a fast hash is enough and lets a request find its token by index).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, String, Table, Text

from stead.store.tables import BigId, metadata

__all__ = [
    "users", "api_tokens", "experiment_permissions", "registered_model_permissions",
]

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(255), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("is_admin", Boolean, nullable=False, server_default="0"),
    Column("created_time", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_time", BigInteger, nullable=False),
    Column("revoked_time", BigInteger, nullable=True),
    Index("ix_api_tokens_user", "user_id"),
)

experiment_permissions = Table(
    "experiment_permissions",
    metadata,
    Column("experiment_id", String(32), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("permission", String(16), nullable=False),
    Index("ix_experiment_permissions_user", "user_id"),
)

# Ready for the registry: the same rule per registered model name.
registered_model_permissions = Table(
    "registered_model_permissions",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("permission", String(16), nullable=False),
    Index("ix_registered_model_permissions_user", "user_id"),
)

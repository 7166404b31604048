"""The serving tables: deployments, their variants, and what each model server reports.

Created by the ``serving`` migration branch (``0500_serving``, ``0501_serving_health``); a
test compares the two. A variant names a model by reference (``churn@production``,
``churn/3``), not by version: the server resolves the reference and follows alias moves.
``deployment_health`` holds one row per (deployment, server process, variant): what that
process serves and whether it loaded, refreshed on every poll and valid until
``expires_at``, so a promotion can check the servers without asking them.

``0502_serving_rollouts`` adds progressive rollouts (``stead.monitoring.rollout``):
``rollouts`` holds one row per rollout of a candidate onto a deployment (its settings, state,
the canary's weight now and the failed checks so far; ``updated_at`` is the time of the last
decision, which controllers claim with a conditional UPDATE), and ``rollout_decisions`` every
decision with the analysis it was made on (JSON), so ``stead deploy history`` can show why.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from stead.store.tables import metadata

__all__ = ["deployments", "deployment_variants", "deployment_health", "rollouts", "rollout_decisions"]

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

rollouts = Table(
    "rollouts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deployment", String(255), nullable=False),  # no foreign key: the history outlives the deployment
    Column("variant", String(64), nullable=False),  # the canary variant the candidate is served as
    Column("candidate", String(512), nullable=False),  # as given: churn@candidate
    Column("candidate_version", String(64), nullable=False),  # what it resolved to at the start
    Column("step", Integer, nullable=False),
    Column("max_weight", Integer, nullable=False),
    Column("interval_s", Float, nullable=False),
    Column("checks", Integer, nullable=False),  # rolled back at this many failed analyses
    Column("options", Text, nullable=False),  # JSON: the judge's settings
    Column("state", String(16), nullable=False),  # progressing, paused, promoted, rolled_back, aborted
    Column("weight", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("user_id", String(256), nullable=False, server_default=""),
    Column("started_at", BigInteger, nullable=False),  # ms since the epoch
    Column("updated_at", BigInteger, nullable=False),  # ms: the last decision or change of state
    Index("ix_rollouts_deployment_state", "deployment", "state"),
)

rollout_decisions = Table(
    "rollout_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rollout_id", Integer, ForeignKey("rollouts.id", ondelete="CASCADE"), nullable=False),
    Column("time", BigInteger, nullable=False),  # ms
    Column("window_start", BigInteger, nullable=True),  # ms: the analysis covered [window_start, time)
    Column("weight_before", Integer, nullable=False),
    Column("weight_after", Integer, nullable=False),
    Column("verdict", String(16), nullable=True),  # pass, fail, inconclusive; null for a person's action
    Column("score", Float, nullable=True),
    Column("analysis", Text, nullable=True),  # JSON: Analysis.to_json() with the window's counts
    Column("action", String(32), nullable=False),  # start, step, hold, pause, resume, promote, rollback, abort, error
    Column("message", Text, nullable=False, server_default=""),
    Index("ix_rollout_decisions_rollout", "rollout_id", "time"),
)

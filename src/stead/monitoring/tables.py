"""The monitoring tables: the reference statistics each model version is checked against.

Created by the ``monitoring`` migration branch (``0600_monitoring``); a test compares the
two. One row per model version (name and number, not the registry's numeric id: the
statistics are looked up by what a user types, ``churn@3``), holding the compact statistics
of ``stead.monitoring.reference`` as JSON (kilobytes, whatever the size of the data) and
where they came from. No foreign key into the registry: its versions are soft-deleted and
their numbers never reused, so a row can outlive nothing it should not.

``0601_monitors`` adds the scheduled monitors (``monitors``: what to check, how often, and
what to do on an alert; ``next_due`` is what schedulers claim with a conditional UPDATE),
each run of one (``monitor_runs``: its summary as JSON and the URI of its report) and the
alert events (``alert_events``: from a monitor run or Alertmanager's webhook, with the action
taken and how it went).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

from stead.store.tables import metadata

__all__ = ["reference_stats", "monitors", "monitor_runs", "alert_events"]

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

monitors = Table(
    "monitors",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("deployment", String(255), nullable=False),
    Column("every_s", Float, nullable=False),
    Column("window_s", Float, nullable=False),
    Column("drift_share", Float, nullable=False),
    Column("minimums", Text, nullable=False),  # JSON: {"accuracy": 0.8, "f1": 0.7}
    Column("on_alert", Text, nullable=True),  # run:FILE.py:PIPELINE or an http(s) URL
    Column("next_due", BigInteger, nullable=False),  # ms since the epoch; claimed by a conditional UPDATE
    Column("user_id", String(256), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
)

monitor_runs = Table(
    "monitor_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(255), nullable=False),
    Column("deployment", String(255), nullable=False),
    Column("time", BigInteger, nullable=False),  # ms: the end of the window
    Column("status", String(16), nullable=False),  # ok, alert, no_data, no_reference, failed
    Column("report_uri", Text, nullable=True),
    Column("summary", Text, nullable=False),  # JSON
    Index("ix_monitor_runs_monitor_time", "monitor", "time"),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),  # monitor or alertmanager
    Column("name", String(255), nullable=False),
    Column("deployment", String(255), nullable=True),
    Column("monitor", String(255), nullable=True),
    Column("status", String(16), nullable=False),  # firing or resolved
    Column("labels", Text, nullable=False),  # JSON
    Column("annotations", Text, nullable=False),  # JSON
    Column("time", BigInteger, nullable=False),  # ms
    Column("action", Text, nullable=True),
    Column("result", Text, nullable=True),
    Index("ix_alert_events_time", "time"),
)

"""Runs in the metadata store: lifecycle, params, tags, metrics, inputs, search."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.engine import Connection

from stead.errors import InvalidParameter, NotFound
from stead.store import Store
from stead.store.tables import (
    environments,
    experiments,
    latest_metrics,
    metrics,
    params,
    run_inputs,
    runs,
)
from stead.store.tables import tags as run_tags
from stead.store.upsert import (
    Prepared,
    insert_ignore,
    insert_ignore_statement,
    upsert,
    upsert_statement,
)
from stead.tracking import validation as v
from stead.tracking.paging import decode_offset_token, encode_offset_token
from stead.tracking.records import (
    Metric,
    Page,
    Run,
    RunData,
    RunInfo,
    RunInput,
    RunStatus,
    ViewType,
)
from stead.tracking.sql_experiments import now_ms, parse_experiment_id
from stead.tracking.sql_read import INFO_COLUMNS, load_runs, plan, search_page

__all__ = ["SqlRuns"]

def _info(row) -> RunInfo:  # type: ignore[no-untyped-def]
    return RunInfo(
        run_id=row.run_uuid,
        experiment_id=str(row.experiment_id),
        run_name=row.name,
        user_id=row.user_id,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        artifact_uri=row.artifact_uri,
        lifecycle_stage=row.lifecycle_stage,
        parent_run_id=row.parent_run_id,
    )


def _newer_point(table, excluded):  # type: ignore[no-untyped-def]
    """The latest value is the one with the highest (step, timestamp); later writes win ties."""
    return or_(
        excluded.step > table.c.step,
        and_(excluded.step == table.c.step, excluded.timestamp >= table.c.timestamp),
    )


_RUN_STATE = Prepared(
    lambda d: select(runs.c.lifecycle_stage, runs.c.status).where(runs.c.run_uuid == bindparam("run_uuid")),
    ("run_uuid",),
)
_EXPERIMENT_STATE = Prepared(
    lambda d: select(experiments.c.lifecycle_stage, experiments.c.artifact_location).where(
        experiments.c.experiment_id == bindparam("experiment_id")
    ),
    ("experiment_id",),
)
_RUN_COLUMNS = ("run_uuid", "experiment_id", "name", "user_id", "status", "start_time", "end_time",
                "lifecycle_stage", "artifact_uri", "parent_run_id", "environment_hash")
_INSERT_RUN = Prepared(lambda d: runs.insert(), _RUN_COLUMNS)
_KEY_VALUE = ("run_uuid", "key", "value")
_INSERT_TAGS = Prepared(lambda d: run_tags.insert(), _KEY_VALUE)
_UPSERT_TAGS = Prepared(lambda d: upsert_statement(d, run_tags, keys=("run_uuid", "key"), update=("value",)), _KEY_VALUE)
_INSERT_PARAMS = Prepared(lambda d: insert_ignore_statement(d, params, keys=("run_uuid", "key")), _KEY_VALUE)
_RUN_PARAMS = Prepared(
    lambda d: select(params.c.key, params.c.value).where(params.c.run_uuid == bindparam("run_uuid")), ("run_uuid",)
)
_POINT = ("run_uuid", "key", "value", "step", "timestamp")
_INSERT_METRICS = Prepared(lambda d: metrics.insert(), _POINT)
_UPSERT_LATEST = Prepared(
    lambda d: upsert_statement(
        d, latest_metrics, keys=("run_uuid", "key"), update=("value", "step", "timestamp"), where=_newer_point
    ),
    _POINT,
)
_HISTORY = Prepared(
    lambda d: select(metrics.c.value, metrics.c.timestamp, metrics.c.step)
    .where(metrics.c.run_uuid == bindparam("run_uuid"), metrics.c.key == bindparam("key"))
    .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.id),
    ("run_uuid", "key"),
)
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _metric_rows(
    run_id: str, points: Sequence[Metric]
) -> tuple[list[tuple[str, str, float | None, int, int]], list[tuple[str, str, float | None, int, int]]]:
    """Checked rows for ``metrics``, and the latest point of each key for ``latest_metrics``.

    Each distinct key is checked once; plain ints and floats skip the general checks.
    """
    rows: list[tuple[str, str, float | None, int, int]] = []
    latest: dict[str, tuple[str, str, float | None, int, int]] = {}
    checked: set[str] = set()
    for m in points:
        key, value, step, ts = m.key, m.value, m.step, m.timestamp
        if key not in checked:
            v.check_key(key, "Metric")
            checked.add(key)
        if type(value) is not float:
            value = v.check_metric_value(key, value)
        if type(step) is not int or not _INT_MIN <= step <= _INT_MAX:
            step = v.check_int(step, f"Step of metric {key!r}")
        if type(ts) is not int or not _INT_MIN <= ts <= _INT_MAX:
            ts = v.check_int(ts, f"Timestamp of metric {key!r}")
        row = (run_id, key, None if value != value else value, step, ts)  # NaN is stored as NULL
        rows.append(row)
        cur = latest.get(key)
        if cur is None or step > cur[3] or (step == cur[3] and ts >= cur[4]):
            latest[key] = row
    return rows, list(latest.values())


class SqlRuns:
    """Run operations under the ``TrackingBackend`` names (``EmbeddedBackend`` serves them as they are)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- lifecycle -----------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str = "",
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        run_name: str | None = None,
        parent_run_id: str | None = None,
        environment_hash: str | None = None,
    ) -> Run:
        eid = parse_experiment_id(experiment_id)
        name = v.check_run_name(run_name or "")
        checked_tags = {v.check_key(k, "Tag"): v.check_tag_value(k, val) for k, val in (tags or {}).items()}
        if parent_run_id is not None:
            v.check_run_id(parent_run_id)
        start = v.check_int(start_time, "start_time") if start_time is not None else now_ms()
        run_id = uuid.uuid4().hex
        if not name:
            name = checked_tags.get("mlflow.runName") or f"run-{run_id[:8]}"
        checked_tags["mlflow.runName"] = name
        with self.store.write() as conn:
            exp = _EXPERIMENT_STATE.one(conn, (eid,)).first()
            if exp is None:
                raise NotFound(f"No experiment with id {experiment_id!r}; create it first")
            if exp[0] != "active":
                raise InvalidParameter(
                    f"Experiment {experiment_id} is deleted; restore it before starting runs in it"
                )
            if parent_run_id is not None:
                self._require_run(conn, parent_run_id)
            artifact_uri = f"{exp[1].rstrip('/')}/{run_id}/artifacts"
            _INSERT_RUN.many(
                conn,
                [(run_id, eid, name, user_id, RunStatus.RUNNING.value, start, None, "active", artifact_uri,
                  parent_run_id, environment_hash)],
            )
            if checked_tags:
                _INSERT_TAGS.many(conn, [(run_id, k, val) for k, val in checked_tags.items()])
        info = RunInfo(
            run_id=run_id,
            experiment_id=str(eid),
            run_name=name,
            user_id=user_id,
            status=RunStatus.RUNNING,
            start_time=start,
            end_time=None,
            artifact_uri=artifact_uri,
            lifecycle_stage="active",
            parent_run_id=parent_run_id,
        )
        return Run(info, RunData(tags=checked_tags))

    def _require_run(self, conn: Connection, run_id: str):  # type: ignore[no-untyped-def]
        v.check_run_id(run_id)
        row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).first()
        if row is None:
            raise NotFound(f"No run with id {run_id!r}; list runs with `stead runs list`")
        return row

    def _require_writable(self, conn: Connection, run_id: str) -> None:
        """The run exists, is active and still running (or scheduled)."""
        v.check_run_id(run_id)
        row = _RUN_STATE.one(conn, (run_id,)).first()
        if row is None:
            raise NotFound(f"No run with id {run_id!r}; list runs with `stead runs list`")
        stage, status = row
        if stage != "active":
            raise InvalidParameter(f"Run {run_id} is deleted; restore it before logging to it")
        if status != RunStatus.RUNNING.value and status != RunStatus.SCHEDULED.value:
            raise InvalidParameter(
                f"Run {run_id} is {status}; it no longer accepts metrics, params or tags. Start a new run."
            )

    def get_run(self, run_id: str) -> Run:
        with self.store.read() as conn:
            row = self._require_run(conn, run_id)
            return load_runs(conn, [tuple(getattr(row, name) for name in INFO_COLUMNS)])[0]

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        values: dict[str, object] = {}
        if status is not None:
            try:
                values["status"] = RunStatus(status).value
            except ValueError:
                raise InvalidParameter(
                    f"Invalid run status {status!r}; use one of {[s.value for s in RunStatus]}"
                ) from None
        if end_time is not None:
            values["end_time"] = v.check_int(end_time, "end_time")
        elif status is not None and RunStatus(status).is_terminal:
            values["end_time"] = now_ms()
        if run_name is not None:
            values["name"] = v.check_run_name(run_name)
        with self.store.write() as conn:
            row = self._require_run(conn, run_id)
            if values:
                conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(**values))
                if "name" in values:
                    upsert(conn, run_tags, [{"run_uuid": run_id, "key": "mlflow.runName", "value": values["name"]}],
                           keys=("run_uuid", "key"), update=("value",))
            row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).first()
        return _info(row)

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, "deleted")

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, "active")

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        with self.store.write() as conn:
            self._require_run(conn, run_id)
            conn.execute(
                update(runs)
                .where(runs.c.run_uuid == run_id)
                .values(lifecycle_stage=stage, deleted_time=now_ms() if stage == "deleted" else None)
            )

    # ---- data ----------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metric_points: Sequence[Metric] = (),
        param_items: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        tag_items: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    ) -> None:
        """Write metrics, params and tags in one transaction: all of them or none.

        Batch sizes are the caller's to bound (the client splits, the server checks MLflow's limits).
        """
        p_items = list(param_items.items()) if isinstance(param_items, Mapping) else list(param_items)
        t_items = list(tag_items.items()) if isinstance(tag_items, Mapping) else list(tag_items)
        new_params: dict[str, str] = {}
        for key, value in p_items:
            key = v.check_key(key, "Param")
            value = v.check_param_value(key, value)
            if key in new_params and new_params[key] != value:
                raise InvalidParameter(
                    f"Param {key!r} appears twice in one batch with different values "
                    f"({new_params[key]!r} and {value!r})"
                )
            new_params[key] = value
        new_tags = [(v.check_key(k, "Tag"), v.check_tag_value(k, val)) for k, val in t_items]
        metric_rows, latest = _metric_rows(run_id, metric_points)
        with self.store.write() as conn:
            self._require_writable(conn, run_id)
            if new_params:
                self._write_params(conn, run_id, new_params)
            if new_tags:
                _UPSERT_TAGS.many(conn, [(run_id, k, val) for k, val in new_tags])
                renamed = [val for k, val in new_tags if k == "mlflow.runName"]
                if renamed:
                    conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(name=renamed[-1]))
            if metric_rows:
                _INSERT_METRICS.many(conn, metric_rows)
                _UPSERT_LATEST.many(conn, latest)

    def _write_params(self, conn: Connection, run_id: str, new_params: dict[str, str]) -> None:
        """Insert the params; one already logged with another value is an error (params are write-once)."""
        inserted = _INSERT_PARAMS.many(conn, [(run_id, k, val) for k, val in new_params.items()])
        if inserted == len(new_params) and conn.dialect.name == "sqlite":
            return  # every one is new (SQLite counts the rows an executemany inserted exactly)
        existing: dict[str, str] = {str(k): str(val) for k, val in _RUN_PARAMS.one(conn, (run_id,)).all()}
        for key, value in new_params.items():
            if existing.get(key, value) != value:
                raise InvalidParameter(
                    f"Param {key!r} of run {run_id} is already {existing[key]!r}; params are written "
                    f"once and cannot change to {value!r}. Log it under another key or start a new run."
                )

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.store.write() as conn:
            self._require_run(conn, run_id)
            result = conn.execute(delete(run_tags).where(run_tags.c.run_uuid == run_id, run_tags.c.key == key))
            if result.rowcount == 0:
                raise NotFound(f"Run {run_id} has no tag {key!r}")

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Metric]:
        offset = decode_offset_token(page_token)
        if max_results is not None and max_results < 1:
            raise InvalidParameter(f"max_results must be positive, got {max_results}")
        with self.store.read() as conn:
            v.check_run_id(run_id)
            if _RUN_STATE.one(conn, (run_id,)).first() is None:
                raise NotFound(f"No run with id {run_id!r}; list runs with `stead runs list`")
            rows: Sequence[Sequence[Any]]
            if max_results is None:
                rows = _HISTORY.all(conn, (run_id, key))
            else:
                stmt = _HISTORY.statement(conn.dialect).offset(offset).limit(max_results + 1)
                rows = conn.execute(stmt, {"run_uuid": run_id, "key": key}).all()
        token = None
        if max_results is not None and len(rows) > max_results:
            rows = rows[:max_results]
            token = encode_offset_token(offset + max_results)
        nan = math.nan
        return Page([Metric(key, nan if val is None else val, ts, step) for val, ts, step in rows], token)

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        with self.store.write() as conn:
            self._require_writable(conn, run_id)
            if inputs:
                conn.execute(
                    run_inputs.insert(),
                    [
                        {
                            "run_uuid": run_id,
                            "name": i.name,
                            "digest": i.digest,
                            "source_type": i.source_type,
                            "source": i.source,
                            "schema": i.schema,
                            "profile": i.profile,
                            "context": i.context,
                            "uri": i.uri,
                        }
                        for i in inputs
                    ],
                )

    def save_environment(self, env_hash: str, python: str, packages: str) -> None:
        with self.store.write() as conn:
            insert_ignore(conn, environments, [{"hash": env_hash, "python": python, "packages": packages}],
                          keys=("hash",))

    def get_environment(self, env_hash: str) -> tuple[str, str] | None:
        with self.store.read() as conn:
            row = conn.execute(
                select(environments.c.python, environments.c.packages).where(environments.c.hash == env_hash)
            ).first()
        return (row.python, row.packages) if row else None

    # ---- search --------------------------------------------------------------------
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        if not 1 <= max_results <= 50000:
            raise InvalidParameter(f"max_results must be between 1 and 50000, got {max_results}")
        eids = [parse_experiment_id(e) for e in experiment_ids]
        offset = decode_offset_token(page_token)
        parts = plan(tuple(eids), view_type.stages(), filter_string, tuple(order_by or ()))
        with self.store.read() as conn:
            found, more = search_page(conn, parts, offset, max_results)
        return Page(found, encode_offset_token(offset + max_results) if more else None)

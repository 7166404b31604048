"""Runs in the metadata store: lifecycle, params, tags, metrics, inputs, search."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import and_, delete, or_, select, update
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
from stead.store.upsert import insert_ignore, upsert
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

__all__ = ["SqlRuns"]

_IN_CHUNK = 500  # bound on the size of IN (...) lists


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _db_value(value: float) -> float | None:
    return None if math.isnan(value) else value


def _py_value(value: float | None) -> float:
    return math.nan if value is None else value


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


class SqlRuns:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- lifecycle -----------------------------------------------------------------
    def create(
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
            exp = conn.execute(
                select(experiments.c.lifecycle_stage, experiments.c.artifact_location).where(
                    experiments.c.experiment_id == eid
                )
            ).first()
            if exp is None:
                raise NotFound(f"No experiment with id {experiment_id!r}; create it first")
            if exp.lifecycle_stage != "active":
                raise InvalidParameter(
                    f"Experiment {experiment_id} is deleted; restore it before starting runs in it"
                )
            if parent_run_id is not None:
                self._require_run(conn, parent_run_id)
            artifact_uri = f"{exp.artifact_location.rstrip('/')}/{run_id}/artifacts"
            conn.execute(
                runs.insert().values(
                    run_uuid=run_id,
                    experiment_id=eid,
                    name=name,
                    user_id=user_id,
                    status=RunStatus.RUNNING.value,
                    start_time=start,
                    end_time=None,
                    lifecycle_stage="active",
                    artifact_uri=artifact_uri,
                    parent_run_id=parent_run_id,
                    environment_hash=environment_hash,
                )
            )
            if checked_tags:
                conn.execute(
                    run_tags.insert(), [{"run_uuid": run_id, "key": k, "value": val} for k, val in checked_tags.items()]
                )
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

    def _require_run(self, conn: Connection, run_id: str, *, writable: bool = False):  # type: ignore[no-untyped-def]
        v.check_run_id(run_id)
        row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).first()
        if row is None:
            raise NotFound(f"No run with id {run_id!r}; list runs with `stead runs list`")
        if writable:
            if row.lifecycle_stage != "active":
                raise InvalidParameter(f"Run {run_id} is deleted; restore it before logging to it")
            if row.status != RunStatus.RUNNING.value and row.status != RunStatus.SCHEDULED.value:
                raise InvalidParameter(
                    f"Run {run_id} is {row.status}; it no longer accepts metrics, params or tags. "
                    "Start a new run."
                )
        return row

    def get(self, run_id: str) -> Run:
        with self.store.read() as conn:
            row = self._require_run(conn, run_id)
            return self._load_full(conn, [row])[0]

    def get_info(self, run_id: str) -> RunInfo:
        with self.store.read() as conn:
            return _info(self._require_run(conn, run_id))

    def update(
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

    def set_stage(self, run_id: str, stage: str) -> None:
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
        *,
        check_sizes: bool = True,
    ) -> None:
        """Write metrics, params and tags in one transaction: all of them or none."""
        p_items = list(param_items.items()) if isinstance(param_items, Mapping) else list(param_items)
        t_items = list(tag_items.items()) if isinstance(tag_items, Mapping) else list(tag_items)
        if check_sizes:
            v.check_batch_sizes(len(metric_points), len(p_items), len(t_items))
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
        metric_rows = []
        latest: dict[str, dict[str, object]] = {}
        for m in metric_points:
            key = v.check_key(m.key, "Metric")
            value = v.check_metric_value(key, m.value)
            row = {
                "run_uuid": run_id,
                "key": key,
                "value": _db_value(value),
                "step": v.check_int(m.step, f"Step of metric {key!r}"),
                "timestamp": v.check_int(m.timestamp, f"Timestamp of metric {key!r}"),
            }
            metric_rows.append(row)
            cur = latest.get(key)
            if cur is None or (row["step"], row["timestamp"]) >= (cur["step"], cur["timestamp"]):  # type: ignore[operator]
                latest[key] = row
        with self.store.write() as conn:
            self._require_run(conn, run_id, writable=True)
            if new_params:
                self._write_params(conn, run_id, new_params)
            if new_tags:
                upsert(conn, run_tags, [{"run_uuid": run_id, "key": k, "value": val} for k, val in new_tags],
                       keys=("run_uuid", "key"), update=("value",))
                renamed = [val for k, val in new_tags if k == "mlflow.runName"]
                if renamed:
                    conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(name=renamed[-1]))
            if metric_rows:
                conn.execute(metrics.insert(), metric_rows)
                upsert(conn, latest_metrics, list(latest.values()), keys=("run_uuid", "key"),
                       update=("value", "step", "timestamp"), where=_newer_point)

    def _write_params(self, conn: Connection, run_id: str, new_params: dict[str, str]) -> None:
        existing = dict(
            conn.execute(
                select(params.c.key, params.c.value).where(
                    params.c.run_uuid == run_id, params.c.key.in_(list(new_params))
                )
            ).all()
        )
        for key, value in new_params.items():
            if key in existing and existing[key] != value:
                raise InvalidParameter(
                    f"Param {key!r} of run {run_id} is already {existing[key]!r}; params are written "
                    f"once and cannot change to {value!r}. Log it under another key or start a new run."
                )
        insert_ignore(
            conn, params, [{"run_uuid": run_id, "key": k, "value": val} for k, val in new_params.items()],
            keys=("run_uuid", "key"),
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.store.write() as conn:
            self._require_run(conn, run_id)
            result = conn.execute(delete(run_tags).where(run_tags.c.run_uuid == run_id, run_tags.c.key == key))
            if result.rowcount == 0:
                raise NotFound(f"Run {run_id} has no tag {key!r}")

    def metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Metric]:
        offset = decode_offset_token(page_token)
        stmt = (
            select(metrics.c.value, metrics.c.timestamp, metrics.c.step)
            .where(metrics.c.run_uuid == run_id, metrics.c.key == key)
            .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.id)
        )
        if max_results is not None:
            if max_results < 1:
                raise InvalidParameter(f"max_results must be positive, got {max_results}")
            stmt = stmt.offset(offset).limit(max_results + 1)
        with self.store.read() as conn:
            self._require_run(conn, run_id)
            rows = conn.execute(stmt).all()
        token = None
        if max_results is not None and len(rows) > max_results:
            rows = rows[:max_results]
            token = encode_offset_token(offset + max_results)
        return Page([Metric(key, _py_value(val), ts, step) for val, ts, step in rows], token)

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        with self.store.write() as conn:
            self._require_run(conn, run_id, writable=True)
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
    def search(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        from stead.tracking.search import apply_run_search

        if not 1 <= max_results <= 50000:
            raise InvalidParameter(f"max_results must be between 1 and 50000, got {max_results}")
        eids = [parse_experiment_id(e) for e in experiment_ids]
        offset = decode_offset_token(page_token)
        stmt = select(runs).where(runs.c.experiment_id.in_(eids), runs.c.lifecycle_stage.in_(view_type.stages()))
        stmt = apply_run_search(stmt, filter_string, list(order_by or []))
        stmt = stmt.offset(offset).limit(max_results + 1)
        with self.store.read() as conn:
            rows = conn.execute(stmt).all()
            more = len(rows) > max_results
            found = self._load_full(conn, rows[:max_results])
        return Page(found, encode_offset_token(offset + max_results) if more else None)

    def _load_full(self, conn: Connection, rows: Sequence) -> list[Run]:  # type: ignore[type-arg]
        ids = [r.run_uuid for r in rows]
        p: dict[str, dict[str, str]] = {i: {} for i in ids}
        t: dict[str, dict[str, str]] = {i: {} for i in ids}
        m: dict[str, dict[str, Metric]] = {i: {} for i in ids}
        ins: dict[str, list[RunInput]] = {i: [] for i in ids}
        for chunk in _chunks(ids):
            for rid, key, value in conn.execute(
                select(params.c.run_uuid, params.c.key, params.c.value).where(params.c.run_uuid.in_(chunk))
            ):
                p[rid][key] = value
            for rid, key, value in conn.execute(
                select(run_tags.c.run_uuid, run_tags.c.key, run_tags.c.value).where(run_tags.c.run_uuid.in_(chunk))
            ):
                t[rid][key] = value
            for rid, key, value, ts, step in conn.execute(
                select(
                    latest_metrics.c.run_uuid,
                    latest_metrics.c.key,
                    latest_metrics.c.value,
                    latest_metrics.c.timestamp,
                    latest_metrics.c.step,
                ).where(latest_metrics.c.run_uuid.in_(chunk))
            ):
                m[rid][key] = Metric(key, _py_value(value), ts, step)
            for r in conn.execute(select(run_inputs).where(run_inputs.c.run_uuid.in_(chunk))):
                ins[r.run_uuid].append(
                    RunInput(r.name, r.digest, r.source_type, r.source, r.schema, r.profile, r.context, r.uri)
                )
        return [
            Run(_info(r), RunData(m[r.run_uuid], p[r.run_uuid], t[r.run_uuid]), tuple(ins[r.run_uuid]))
            for r in rows
        ]

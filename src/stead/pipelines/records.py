"""Pipeline run and step run records, and the SQL that stores them (batched writes).

The runner never writes a field at a time: it hands ``save`` a batch of changed step
records and run changes, and each batch is one transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stead.errors import NotFound

if TYPE_CHECKING:
    from stead.store.engine import Store

__all__ = ["RunStatus", "StepStatus", "PipelineRun", "StepRun", "PipelineRecords", "now_ms"]


class RunStatus:
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    FINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


class StepStatus:
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    CACHED = "CACHED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"
    CANCELLED = "CANCELLED"
    DONE = frozenset({"SUCCEEDED", "CACHED"})
    FINAL = frozenset({"SUCCEEDED", "CACHED", "FAILED", "SKIPPED", "UPSTREAM_FAILED", "CANCELLED"})


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class StepRun:
    """One node of one pipeline run."""

    run_id: str
    step_id: str
    position: int
    step: str
    status: str = StepStatus.PENDING
    attempt: int = 0
    cache_key: str | None = None
    cache_hit: bool = False
    start_time: int | None = None
    end_time: int | None = None
    duration: float | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    logs: str = ""
    error: str | None = None
    tracking_run_id: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "step_id": self.step_id, "position": self.position, "step": self.step,
            "status": self.status, "attempt": self.attempt, "cache_key": self.cache_key,
            "cache_hit": self.cache_hit, "start_time": self.start_time, "end_time": self.end_time,
            "duration": self.duration, "outputs": json.dumps(self.outputs), "logs": self.logs,
            "error": self.error, "tracking_run_id": self.tracking_run_id,
        }

    @classmethod
    def from_row(cls, row: Any) -> "StepRun":
        data = dict(row._mapping)
        data["outputs"] = json.loads(data["outputs"] or "[]")
        data["cache_hit"] = bool(data["cache_hit"])
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        data = self.row()
        data["outputs"] = self.outputs
        return data


@dataclass
class PipelineRun:
    run_id: str
    pipeline: str
    source: str
    params: dict[str, Any]
    executor: str
    status: str
    created_time: int
    start_time: int | None = None
    end_time: int | None = None
    graph: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    no_cache: bool = False
    resumed_from: str | None = None
    trigger: str = "manual"
    steps: list[StepRun] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "pipeline": self.pipeline, "source": self.source,
            "params": json.dumps(self.params, default=repr), "executor": self.executor, "status": self.status,
            "created_time": self.created_time, "start_time": self.start_time, "end_time": self.end_time,
            "graph": json.dumps(self.graph), "error": self.error, "no_cache": self.no_cache,
            "resumed_from": self.resumed_from, "trigger": self.trigger,
        }

    @classmethod
    def from_row(cls, row: Any) -> "PipelineRun":
        data = dict(row._mapping)
        data["params"] = json.loads(data["params"] or "{}")
        data["graph"] = json.loads(data["graph"] or "{}")
        data["no_cache"] = bool(data["no_cache"])
        return cls(**data)

    @property
    def duration(self) -> float | None:
        if self.start_time is None or self.end_time is None:
            return None
        return (self.end_time - self.start_time) / 1000

    def step(self, step_id: str) -> StepRun:
        for s in self.steps:
            if s.step_id == step_id:
                return s
        raise NotFound(f"Pipeline run {self.run_id} has no step {step_id!r}")

    def to_json(self) -> dict[str, Any]:
        data = self.row()
        data["params"] = self.params
        data["graph"] = self.graph
        data["steps"] = [s.to_json() for s in self.steps]
        return data


class PipelineRecords:
    """The pipeline tables of one metadata store."""

    def __init__(self, store: "Store") -> None:
        self.store = store

    # -- writes ------------------------------------------------------------------------
    def create(self, run: PipelineRun, steps: Sequence[StepRun]) -> None:
        """Insert a run and all its steps in one transaction (replacing a PENDING shell)."""
        from sqlalchemy import delete

        from stead.pipelines.tables import pipeline_runs, pipeline_steps
        from stead.store.upsert import upsert

        run_row = run.row()
        with self.store.write() as conn:
            upsert(conn, pipeline_runs, [run_row], keys=["run_id"], update=[k for k in run_row if k != "run_id"])
            conn.execute(delete(pipeline_steps).where(pipeline_steps.c.run_id == run.run_id))
            if steps:
                conn.execute(pipeline_steps.insert(), [s.row() for s in steps])

    def ensure(self, run: PipelineRun, steps: Sequence[StepRun]) -> None:
        """Insert a run and its steps unless they exist (pods of one run race to do it)."""
        from stead.pipelines.tables import pipeline_runs, pipeline_steps
        from stead.store.upsert import insert_ignore

        with self.store.write() as conn:
            insert_ignore(conn, pipeline_runs, [run.row()], keys=["run_id"])
            insert_ignore(conn, pipeline_steps, [s.row() for s in steps], keys=["run_id", "step_id"])

    def create_pending(self, run: PipelineRun) -> None:
        """A run shell that a worker process will adopt (REST, scheduler)."""
        from stead.pipelines.tables import pipeline_runs

        with self.store.write() as conn:
            conn.execute(pipeline_runs.insert(), [run.row()])

    def save(
        self,
        steps: Iterable[StepRun] = (),
        *,
        run: PipelineRun | None = None,
        cache: Iterable[tuple[str, str, list[dict[str, Any]], str]] = (),
    ) -> None:
        """One transaction: changed steps, the run's own fields, new cache entries."""
        from sqlalchemy import bindparam, update

        from stead.pipelines.tables import pipeline_cache, pipeline_runs, pipeline_steps
        from stead.store.upsert import upsert

        step_rows = [s.row() for s in steps]
        cache_rows = [
            {"cache_key": k, "step": name, "outputs": json.dumps(outs), "run_id": rid, "created_time": now_ms()}
            for k, name, outs, rid in cache
        ]
        if not step_rows and run is None and not cache_rows:
            return
        with self.store.write() as conn:
            if step_rows:
                cols = [c for c in step_rows[0] if c not in ("run_id", "step_id")]
                stmt = (
                    update(pipeline_steps)
                    .where(pipeline_steps.c.run_id == bindparam("b_run_id"))
                    .where(pipeline_steps.c.step_id == bindparam("b_step_id"))
                    .values({c: bindparam(f"b_{c}") for c in cols})
                )
                conn.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in step_rows])
            if run is not None:
                row = run.row()
                conn.execute(
                    update(pipeline_runs)
                    .where(pipeline_runs.c.run_id == run.run_id)
                    .values({k: row[k] for k in ("status", "start_time", "end_time", "error")})
                )
            if cache_rows:
                upsert(conn, pipeline_cache, cache_rows, keys=["cache_key"],
                       update=["outputs", "run_id", "created_time"])

    def forget_cache(self, cache_key: str) -> None:
        from sqlalchemy import delete

        from stead.pipelines.tables import pipeline_cache

        with self.store.write() as conn:
            conn.execute(delete(pipeline_cache).where(pipeline_cache.c.cache_key == cache_key))

    # -- reads -------------------------------------------------------------------------
    def cached(self, cache_key: str) -> list[dict[str, Any]] | None:
        from sqlalchemy import select

        from stead.pipelines.tables import pipeline_cache

        with self.store.read() as conn:
            value = conn.execute(
                select(pipeline_cache.c.outputs).where(pipeline_cache.c.cache_key == cache_key)
            ).scalar()
        return None if value is None else json.loads(value)

    def cache_reader(self) -> "CacheReader":
        """One connection for the many single-key lookups of a run (closed by ``close``)."""
        return CacheReader(self.store)

    def cached_by_last_run(self, pipeline: str) -> dict[str, list[dict[str, Any]]]:
        """The cache entries the latest run of ``pipeline`` used: one query for a re-run."""
        from sqlalchemy import select

        from stead.pipelines.tables import pipeline_cache, pipeline_runs, pipeline_steps

        last = (
            select(pipeline_runs.c.run_id)
            .where(pipeline_runs.c.pipeline == pipeline)
            .order_by(pipeline_runs.c.created_time.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(pipeline_cache.c.cache_key, pipeline_cache.c.outputs)
            .join(pipeline_steps, pipeline_steps.c.cache_key == pipeline_cache.c.cache_key)
            .where(pipeline_steps.c.run_id == last)
        )
        with self.store.read() as conn:
            return {k: json.loads(v) for k, v in conn.execute(query)}

    def cached_many(self, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        from sqlalchemy import select

        from stead.pipelines.tables import pipeline_cache

        found: dict[str, list[dict[str, Any]]] = {}
        with self.store.read() as conn:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i : i + 500])
                rows = conn.execute(
                    select(pipeline_cache.c.cache_key, pipeline_cache.c.outputs).where(
                        pipeline_cache.c.cache_key.in_(chunk)
                    )
                )
                found.update({k: json.loads(v) for k, v in rows})
        return found

    def get(self, run_id: str, *, with_logs: bool = True, where: Sequence[Any] = ()) -> PipelineRun:
        """The run ``run_id`` (or the one run it is a prefix of) among the runs that satisfy
        ``where`` (SQL conditions on ``pipeline_runs``, e.g. what a server user may read)."""
        from sqlalchemy import select

        from stead.pipelines.tables import pipeline_runs, pipeline_steps

        runs = select(pipeline_runs).where(*where)
        with self.store.read() as conn:
            row = conn.execute(runs.where(pipeline_runs.c.run_id == run_id)).first()
            if row is None:
                matches = conn.execute(runs.where(pipeline_runs.c.run_id.startswith(run_id)).limit(2)).all()
                if len(matches) != 1:
                    raise NotFound(f"No pipeline run {run_id!r}; list them with `stead pipeline runs`")
                row = matches[0]
            run = PipelineRun.from_row(row)
            cols = [c for c in pipeline_steps.c if with_logs or c.name != "logs"]
            steps = conn.execute(
                select(*cols).where(pipeline_steps.c.run_id == run.run_id).order_by(pipeline_steps.c.position)
            ).all()
        run.steps = [StepRun.from_row(s) if with_logs else StepRun.from_row(_with_logs(s)) for s in steps]
        return run

    def list(self, pipeline: str | None = None, limit: int = 50, *, offset: int = 0,
             where: Sequence[Any] = ()) -> list[PipelineRun]:
        """Newest first; ``where`` filters before the page is cut, so a page is full unless
        the matching runs run out."""
        from sqlalchemy import select

        from stead.pipelines.tables import pipeline_runs

        query = (select(pipeline_runs).where(*where)
                 .order_by(pipeline_runs.c.created_time.desc(), pipeline_runs.c.run_id.desc())
                 .limit(limit).offset(offset))
        if pipeline:
            query = query.where(pipeline_runs.c.pipeline == pipeline)
        with self.store.read() as conn:
            return [PipelineRun.from_row(r) for r in conn.execute(query)]

    def known_sources(self) -> set[str]:
        from sqlalchemy import select

        from stead.pipelines.tables import pipeline_runs, pipeline_schedules

        with self.store.read() as conn:
            runs = set(conn.execute(select(pipeline_runs.c.source).distinct()).scalars())
            scheduled = set(conn.execute(select(pipeline_schedules.c.source)).scalars())
        return runs | scheduled


class CacheReader:
    """Point lookups in the output cache over one connection, each its own short transaction."""

    def __init__(self, store: "Store") -> None:
        from sqlalchemy import bindparam, select

        from stead.pipelines.tables import pipeline_cache

        self._conn = store.engine.connect()
        self._query = select(pipeline_cache.c.outputs).where(pipeline_cache.c.cache_key == bindparam("k"))

    def get(self, cache_key: str) -> list[dict[str, Any]] | None:
        try:
            value = self._conn.execute(self._query, {"k": cache_key}).scalar()
        finally:
            self._conn.rollback()
        return None if value is None else json.loads(value)

    def close(self) -> None:
        self._conn.close()


class _Row:
    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping


def _with_logs(row: Any) -> _Row:
    data = dict(row._mapping)
    data.setdefault("logs", "")
    return _Row(data)

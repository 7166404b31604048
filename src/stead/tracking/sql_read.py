"""Reading runs from the metadata store: a search's page of rows, then whole ``Run`` records.

The read path is where searches spend their time, so it is written for the drivers: on SQLite
the queries run on the driver's own cursor (plain tuples, SQL compiled once) and a page's params
and tags come back as one JSON string; on PostgreSQL one round trip loads a chunk of runs.
"""

from __future__ import annotations

import functools
import gc
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import BindParameter, bindparam, select, text
from sqlalchemy.engine import Connection

from stead.store.tables import run_inputs, runs
from stead.store.upsert import driver_rows
from stead.tracking.records import Metric, Run, RunData, RunInfo, RunInput, RunStatus

__all__ = ["INFO_COLUMNS", "plan", "search_page", "load_runs"]

_IN_CHUNK = 500  # bound on the size of IN (...) lists


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]



@functools.lru_cache(maxsize=256)
def plan(
    eids: tuple[int, ...], stages: tuple[str, ...], filter_string: str | None, order_by: tuple[str, ...]
) -> list[Any]:
    """The search's queries, built once per distinct search (the filter is parsed once too)."""
    from stead.tracking.search.compile_runs import plan_run_search

    base = select(*(runs.c[name] for name in INFO_COLUMNS)).where(
        runs.c.experiment_id.in_(eids), runs.c.lifecycle_stage.in_(stages)
    )
    return plan_run_search(base, filter_string, list(order_by))


def search_page(conn: Connection, parts: Sequence[Any], offset: int, max_results: int) -> tuple[list[Run], bool]:
    """One page of a search planned by ``plan``: the runs, and whether another page follows.

    A plan of several parts is their concatenation, paged by one offset.
    """
    wanted = max_results + 1  # one more than a page says whether another follows
    rows: list[Any] = []
    skip = offset  # rows of the earlier parts still to skip
    run = _run_part if conn.dialect.name == "sqlite" else _run_part_sa
    with _no_gc():
        for i, stmt in enumerate(parts):
            if len(parts) == 1:
                rows = run(conn, stmt, offset, wanted)
                break
            if i < len(parts) - 1:
                # Earlier parts are read from their start, so the rows skipped can be counted.
                got = run(conn, stmt, 0, skip + wanted - len(rows))
                rows += got[skip:]
                skip = max(0, skip - len(got))
            else:
                rows += run(conn, stmt, skip, wanted - len(rows))
            if len(rows) >= wanted:
                break
        return load_runs(conn, rows[:max_results]), len(rows) > max_results


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a page is built.

    A page of 1,000 runs allocates some 12,000 container objects that all stay alive (rows,
    records, dicts), none of them in a cycle; with the collector on, that triggers a dozen
    collections that find nothing, and every tenth search a full one over the whole heap
    (a third of the search's time). Paused, the new objects are looked at once, afterwards.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


INFO_COLUMNS = ("run_uuid", "experiment_id", "name", "user_id", "status", "start_time", "end_time",
                 "artifact_uri", "lifecycle_stage", "parent_run_id")
_STATUSES = {s.value: s for s in RunStatus}

# ---- reading runs: the search's page, then its runs' params, tags, metrics and inputs ----
_LIMIT: Any = bindparam("stead_limit", 0)
_OFFSET: Any = bindparam("stead_offset", 0)
# On SQLite a search part runs on the driver's cursor: SQL compiled once, its fixed
# parameters bound once, LIMIT and OFFSET filled in per call.
_SQLITE_PARTS: dict[Any, tuple[str, list[Any], int, int]] = {}


def _run_part_sa(conn: Connection, stmt: Any, offset: int, limit: int) -> list[Any]:
    return list(conn.execute(stmt.offset(offset).limit(limit)).all())


def _run_part(conn: Connection, stmt: Any, offset: int, limit: int) -> list[Any]:
    """``stmt`` with OFFSET/LIMIT on SQLite's own cursor: plain tuples, no SQLAlchemy rows."""
    found = _SQLITE_PARTS.get(stmt)
    if found is None:
        compiled = stmt.limit(_LIMIT).offset(_OFFSET).compile(
            dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
        )
        names = list(compiled.positiontup or ())
        if not compiled.positional or "stead_limit" not in names or "stead_offset" not in names:
            return _run_part_sa(conn, stmt, offset, limit)
        values, procs = compiled.params, compiled._bind_processors
        bound = [procs[n](values[n]) if n in procs else values[n] for n in names]
        if len(_SQLITE_PARTS) > 512:
            _SQLITE_PARTS.clear()
        found = _SQLITE_PARTS[stmt] = (compiled.string, bound, names.index("stead_limit"),
                                       names.index("stead_offset"))
    sql, bound, li, oi = found
    args = bound.copy()
    args[li], args[oi] = limit, offset
    return driver_rows(conn, sql, args)


# PostgreSQL: one round trip per chunk of run ids, rows of (kind, run_uuid, key, text value,
# number value, timestamp, step): kind 0 a param, 1 a tag, 2 a latest metric, 3 a lone row
# saying that some of the runs have inputs (fetched only then).
_PG_LOAD = text(
    "SELECT 0, run_uuid, key, value, CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS BIGINT),"
    " CAST(NULL AS BIGINT) FROM params WHERE run_uuid = ANY(:ids)"
    " UNION ALL SELECT 1, run_uuid, key, value, NULL, NULL, NULL FROM tags WHERE run_uuid = ANY(:ids)"
    " UNION ALL SELECT 2, run_uuid, key, NULL, value, timestamp, step FROM latest_metrics"
    " WHERE run_uuid = ANY(:ids)"
    " UNION ALL SELECT 3, NULL, NULL, NULL, NULL, NULL, NULL"
    " WHERE EXISTS (SELECT 1 FROM run_inputs WHERE run_uuid = ANY(:ids))"
)
# SQLite: no round trips; what costs is turning each value into a Python object (and the
# garbage collector walking the tuples that hold them). So the params and tags of all the
# runs come back as ONE string, a JSON array of [run id, {params}, {tags}, has inputs]
# assembled by SQLite from JSON objects it builds (json.loads then makes every dict in C).
# Metrics stay rows: SQLite's JSON prints 15 digits, and a metric must come back exact.
# The ids go in as one JSON array (json_each), so the SQL is the same for any page size.
_SQLITE_LOAD_DATA = (
    "SELECT '[' || group_concat('[' || json_quote(j.value)"
    " || ',' || (SELECT json_group_object(key, value) FROM params WHERE run_uuid = j.value)"
    " || ',' || (SELECT json_group_object(key, value) FROM tags WHERE run_uuid = j.value)"
    " || ',' || EXISTS (SELECT 1 FROM run_inputs WHERE run_uuid = j.value) || ']', ',') || ']'"
    " FROM json_each(?) AS j"
)
_SQLITE_LOAD_METRICS = (
    "SELECT run_uuid, key, value, timestamp, step FROM latest_metrics"
    " WHERE run_uuid IN (SELECT value FROM json_each(?))"
)
_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_LOAD_INPUTS = select(
    run_inputs.c.run_uuid, run_inputs.c.name, run_inputs.c.digest, run_inputs.c.source_type, run_inputs.c.source,
    run_inputs.c.schema, run_inputs.c.profile, run_inputs.c.context, run_inputs.c.uri,
).where(run_inputs.c.run_uuid.in_(_IDS)).order_by(run_inputs.c.id)
_SQLITE_SQL: dict[Any, str] = {}


def _rows_for_ids(conn: Connection, stmt: Any, ids: Sequence[str]) -> Sequence[Sequence[Any]]:
    """``stmt`` (with an expanding ``ids`` parameter) for these ids; on SQLite as plain tuples."""
    if conn.dialect.name != "sqlite":
        return conn.execute(stmt, {"ids": list(ids)}).all()
    sql = _SQLITE_SQL.get(stmt)
    if sql is None:
        sql = _SQLITE_SQL[stmt] = stmt.compile(dialect=conn.dialect).string
    return driver_rows(conn, sql.replace("__[POSTCOMPILE_ids]", ",".join("?" * len(ids))), ids)


def load_runs(conn: Connection, rows: Sequence[Any]) -> list[Run]:
    """Whole runs from rows of ``INFO_COLUMNS``: their params, tags, latest metrics and inputs."""
    ids = [r[0] for r in rows]
    load = _load_data_sqlite if conn.dialect.name == "sqlite" else _load_data_sa
    p, t, m, with_inputs = load(conn, ids)
    ins: dict[str, list[RunInput]] = {}
    if with_inputs:
        for chunk in _chunks(ids):
            for rid, *fields in _rows_for_ids(conn, _LOAD_INPUTS, chunk):
                ins.setdefault(rid, []).append(RunInput(*fields))
    statuses = _STATUSES
    return [
        Run(
            RunInfo(rid, str(eid), name, user, statuses[status], start, end, uri, stage, parent),
            RunData(m[rid], p[rid], t[rid]),
            tuple(ins[rid]) if rid in ins else (),
        )
        for rid, eid, name, user, status, start, end, uri, stage, parent in rows
    ]


_Data = tuple[dict[str, dict[str, str]], dict[str, dict[str, str]], dict[str, dict[str, Metric]], bool]


def _load_data_sqlite(conn: Connection, ids: Sequence[str]) -> _Data:
    """Params, tags and latest metrics of these runs, and whether any has inputs (SQLite)."""
    m: dict[str, dict[str, Metric]] = {i: {} for i in ids}
    nan = math.nan
    id_array = json.dumps(ids)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        packed = cursor.execute(_SQLITE_LOAD_DATA, (id_array,)).fetchone()[0]
        for rid, key, value, ts, step in cursor.execute(_SQLITE_LOAD_METRICS, (id_array,)).fetchall():
            m[rid][key] = Metric(key, nan if value is None else value, ts, step)
    finally:
        cursor.close()
    p: dict[str, dict[str, str]] = {}
    t: dict[str, dict[str, str]] = {}
    with_inputs = False
    for rid, run_params, run_tags, has_inputs in json.loads(packed) if packed else ():
        p[rid] = run_params
        t[rid] = run_tags
        with_inputs = with_inputs or has_inputs == 1
    return p, t, m, with_inputs


def _load_data_sa(conn: Connection, ids: Sequence[str]) -> _Data:
    """The same on PostgreSQL: one round trip per chunk of ids (``_PG_LOAD``)."""
    p: dict[str, dict[str, str]] = {i: {} for i in ids}
    t: dict[str, dict[str, str]] = {i: {} for i in ids}
    m: dict[str, dict[str, Metric]] = {i: {} for i in ids}
    with_inputs = False
    nan = math.nan
    text_kinds = (p, t)
    for chunk in _chunks(ids):
        for kind, rid, key, value, number, ts, step in conn.execute(_PG_LOAD, {"ids": list(chunk)}):
            if kind < 2:
                text_kinds[kind][rid][key] = value
            elif kind == 2:
                m[rid][key] = Metric(key, nan if number is None else number, ts, step)
            else:
                with_inputs = True
    return p, t, m, with_inputs

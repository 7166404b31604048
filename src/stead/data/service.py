"""Data set records in the metadata store: create versions, look them up, list them."""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from stead.data.manifest import Manifest
from stead.data.records import Dataset, DatasetVersion
from stead.data.tables import data_remotes as dr
from stead.data.tables import dataset_versions as dv
from stead.data.tables import datasets as ds
from stead.errors import AlreadyExists, Conflict, NotFound
from stead.store.engine import Store

__all__ = [
    "record_version",
    "import_versions",
    "get_version",
    "get_manifest",
    "list_datasets",
    "list_versions",
    "all_manifest_hashes",
    "known_versions",
    "versions_of",
    "remotes",
    "put_remote",
    "delete_remote",
]

_SUMMARY_COLS = [
    ds.c.name,
    dv.c.version,
    dv.c.manifest_hash,
    dv.c.path,
    dv.c.kind,
    dv.c.num_files,
    dv.c.num_bytes,
    dv.c.user_id,
    dv.c.run_id,
    dv.c.message,
    dv.c.creation_time,
]


def _now() -> int:
    return int(time.time() * 1000)


def _row_to_version(row: Any, profile: str | None = None) -> DatasetVersion:
    return DatasetVersion(
        name=row.name,
        version=row.version,
        manifest_hash=row.manifest_hash,
        path=row.path,
        kind=row.kind,
        num_files=row.num_files,
        num_bytes=row.num_bytes,
        user_id=row.user_id,
        run_id=row.run_id,
        message=row.message,
        creation_time=row.creation_time,
        profile=json.loads(profile) if profile else None,
    )


def record_version(
    store: Store,
    name: str,
    manifest: Manifest,
    *,
    path: str,
    kind: str,
    user_id: str,
    run_id: str | None = None,
    message: str = "",
    profile: dict[str, Any] | None = None,
) -> tuple[DatasetVersion, bool]:
    """Record a new version unless the latest one has the same manifest.

    Returns ``(version, created)``. Concurrent writers get consecutive numbers.
    """
    for _attempt in range(5):
        try:
            return _record_once(store, name, manifest, path, kind, user_id, run_id, message, profile)
        except IntegrityError:
            continue  # another process took the number (PostgreSQL); try the next one
    raise Conflict(f"Could not record a version of {name!r}: too many concurrent writers; run it again")


def _record_once(store, name, manifest, path, kind, user_id, run_id, message, profile):  # type: ignore[no-untyped-def]
    now = _now()
    with store.write() as conn:
        dataset_id = conn.execute(sa.select(ds.c.dataset_id).where(ds.c.name == name)).scalar()
        if dataset_id is None:
            dataset_id = conn.execute(
                ds.insert().values(name=name, creation_time=now, last_update_time=now).returning(ds.c.dataset_id)
            ).scalar_one()
            latest = None
        else:
            latest = conn.execute(
                sa.select(*_SUMMARY_COLS)
                .select_from(dv.join(ds))
                .where(dv.c.dataset_id == dataset_id)
                .order_by(dv.c.version.desc())
                .limit(1)
            ).first()
        if latest is not None and latest.manifest_hash == manifest.digest:
            return _row_to_version(latest), False
        version = (latest.version if latest is not None else 0) + 1
        conn.execute(
            dv.insert().values(
                dataset_id=dataset_id,
                version=version,
                manifest_hash=manifest.digest,
                manifest=manifest.to_bytes().decode(),
                path=path,
                kind=kind,
                num_files=manifest.num_files,
                num_bytes=manifest.num_bytes,
                profile=json.dumps(profile) if profile else None,
                user_id=user_id,
                run_id=run_id,
                message=message,
                creation_time=now,
            )
        )
        conn.execute(ds.update().where(ds.c.dataset_id == dataset_id).values(last_update_time=now))
    return get_version(store, name, version), True


def _version_query(name: str, version: int | None, *cols: Any):  # type: ignore[no-untyped-def]
    q = sa.select(*_SUMMARY_COLS, *cols).select_from(dv.join(ds)).where(ds.c.name == name)
    if version is None:
        return q.order_by(dv.c.version.desc()).limit(1)
    return q.where(dv.c.version == version)


def _missing(store: Store, name: str, version: int | None) -> NotFound:
    with store.read() as conn:
        exists = conn.execute(sa.select(ds.c.dataset_id).where(ds.c.name == name)).first()
    if not exists:
        return NotFound(f"No dataset named {name!r}; see `stead data list`")
    return NotFound(f"Dataset {name!r} has no version {version}; see `stead data versions {name}`")


def get_version(store: Store, name: str, version: int | None = None) -> DatasetVersion:
    """A version (the latest when ``version`` is None), with its profile."""
    with store.read() as conn:
        row = conn.execute(_version_query(name, version, dv.c.profile)).first()
    if row is None:
        raise _missing(store, name, version)
    return _row_to_version(row, row.profile)


def get_manifest(store: Store, name: str, version: int | None = None) -> tuple[DatasetVersion, Manifest]:
    with store.read() as conn:
        row = conn.execute(_version_query(name, version, dv.c.profile, dv.c.manifest)).first()
    if row is None:
        raise _missing(store, name, version)
    return _row_to_version(row, row.profile), Manifest.from_bytes(row.manifest.encode())


def list_datasets(store: Store) -> list[Dataset]:
    latest = sa.select(sa.func.max(dv.c.version)).where(dv.c.dataset_id == ds.c.dataset_id).scalar_subquery()
    with store.read() as conn:
        rows = conn.execute(
            sa.select(ds.c.name, ds.c.description, ds.c.creation_time, ds.c.last_update_time, latest.label("latest"))
            .order_by(ds.c.name)
        ).all()
    return [Dataset(r.name, r.description, r.creation_time, r.last_update_time, r.latest) for r in rows]


def list_versions(store: Store, name: str) -> list[DatasetVersion]:
    with store.read() as conn:
        rows = conn.execute(
            sa.select(*_SUMMARY_COLS).select_from(dv.join(ds)).where(ds.c.name == name).order_by(dv.c.version)
        ).all()
    if not rows:
        raise _missing(store, name, None)
    return [_row_to_version(r) for r in rows]


def all_manifest_hashes(store: Store) -> list[tuple[str, str]]:
    """``(manifest_hash, manifest JSON)`` of every version, for gc."""
    with store.read() as conn:
        return [(r[0], r[1]) for r in conn.execute(sa.select(dv.c.manifest_hash, dv.c.manifest))]


def known_versions(store: Store) -> set[tuple[str, int]]:
    """``(name, version)`` of every recorded version (what a pull need not learn)."""
    with store.read() as conn:
        return {(r[0], r[1]) for r in conn.execute(sa.select(ds.c.name, dv.c.version).select_from(dv.join(ds)))}


def versions_of(store: Store, wanted: list[tuple[str, int]]) -> list[DatasetVersion]:
    """The records (profiles included) of the ``(name, version)`` pairs that exist."""
    out = []
    with store.read() as conn:
        for name, version in wanted:
            row = conn.execute(_version_query(name, version, dv.c.profile)).first()
            if row is not None:
                out.append(_row_to_version(row, row.profile))
    return out


def import_versions(store: Store, items: list[tuple[DatasetVersion, Manifest]]) -> int:
    """Record each version under its own number, as another store recorded it (learnt from
    a remote's version index), unless that number is taken; how many were recorded."""
    from stead.store.upsert import insert_ignore_statement

    done = 0
    with store.write() as conn:
        stmt = insert_ignore_statement(conn.dialect.name, dv, keys=["dataset_id", "version"])
        for v, manifest in items:
            dataset_id = conn.execute(sa.select(ds.c.dataset_id).where(ds.c.name == v.name)).scalar()
            if dataset_id is None:
                dataset_id = conn.execute(
                    ds.insert().values(name=v.name, creation_time=v.creation_time, last_update_time=v.creation_time)
                    .returning(ds.c.dataset_id)
                ).scalar_one()
            row = dict(dataset_id=dataset_id, version=v.version, manifest_hash=manifest.digest,
                       manifest=manifest.to_bytes().decode(), path=v.path, kind=v.kind, num_files=manifest.num_files,
                       num_bytes=manifest.num_bytes, profile=json.dumps(v.profile) if v.profile else None,
                       user_id=v.user_id, run_id=v.run_id, message=v.message, creation_time=v.creation_time)
            done += conn.execute(stmt, row).rowcount
    return done


def remotes(store: Store) -> tuple[dict[str, str], str | None]:
    """The team's named remotes and its default one."""
    with store.read() as conn:
        rows = conn.execute(sa.select(dr.c.name, dr.c.url, dr.c.is_default).order_by(dr.c.name)).all()
    return {r.name: r.url for r in rows}, next((r.name for r in rows if r.is_default), None)


def put_remote(store: Store, name: str, url: str, *, default: bool = False, force: bool = False) -> None:
    """Name a remote for the whole team; the first one is the default."""
    with store.write() as conn:
        have = conn.execute(sa.select(dr.c.url).where(dr.c.name == name)).first()
        if have is not None and not force:
            raise AlreadyExists(f"A remote named {name!r} exists ({have.url}); pass --force to replace it")
        first = conn.execute(sa.select(dr.c.name).where(dr.c.is_default.is_(True))).first() is None
        if default:
            conn.execute(dr.update().values(is_default=False))
        if have is not None:
            values: dict[str, Any] = {"url": url}
            if default or first:
                values["is_default"] = True
            conn.execute(dr.update().where(dr.c.name == name).values(**values))
        else:
            conn.execute(dr.insert().values(name=name, url=url, is_default=default or first, creation_time=_now()))


def delete_remote(store: Store, name: str) -> bool:
    """Forget a team remote (a remaining one becomes the default); False if there was none."""
    with store.write() as conn:
        was = conn.execute(sa.select(dr.c.is_default).where(dr.c.name == name)).first()
        if was is None:
            return False
        conn.execute(dr.delete().where(dr.c.name == name))
        if was.is_default:
            other = conn.execute(sa.select(dr.c.name).order_by(dr.c.creation_time).limit(1)).scalar()
            if other is not None:
                conn.execute(dr.update().where(dr.c.name == other).values(is_default=True))
    return True

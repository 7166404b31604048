"""Experiments in the metadata store: create, find, rename, delete and restore."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from stead.errors import AlreadyExists, InternalError, InvalidParameter, NotFound
from stead.store import Store
from stead.store.tables import experiment_tags, experiments
from stead.tracking import validation as v
from stead.tracking.paging import decode_offset_token, encode_offset_token
from stead.tracking.records import Experiment, Page, ViewType

__all__ = ["SqlExperiments", "DEFAULT_EXPERIMENT_ID", "DEFAULT_EXPERIMENT_NAME", "now_ms"]

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_experiment_id(experiment_id: object) -> int:
    try:
        value = int(str(experiment_id))
    except ValueError:
        raise InvalidParameter(
            f"Invalid experiment id {experiment_id!r}: experiment ids are whole numbers"
        ) from None
    if not 0 <= value < 2**63:
        raise InvalidParameter(f"Invalid experiment id {experiment_id!r}: must be a whole number from 0 to 2**63-1")
    return value


class SqlExperiments:
    """Experiment operations under the ``TrackingBackend`` names; ``artifact_root`` is where new
    experiments keep their artifacts."""

    def __init__(self, store: Store, artifact_root: str) -> None:
        self.store = store
        self.artifact_root = artifact_root.rstrip("/")

    def _default_location(self, experiment_id: int) -> str:
        return f"{self.artifact_root}/{experiment_id}"

    def ensure_default(self) -> None:
        """Experiment 0, "Default", exists in every store, as in MLflow."""
        with self.store.read() as conn:
            if conn.execute(select(experiments.c.experiment_id).where(experiments.c.experiment_id == 0)).first():
                return
        try:
            with self.store.write() as conn:
                t = now_ms()
                conn.execute(
                    experiments.insert().values(
                        experiment_id=0,
                        name=DEFAULT_EXPERIMENT_NAME,
                        artifact_location=self._default_location(0),
                        lifecycle_stage="active",
                        creation_time=t,
                        last_update_time=t,
                    )
                )
        except IntegrityError:
            pass  # another process created it first

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        name = v.check_experiment_name(name)
        checked_tags = {v.check_key(k, "Tag"): v.check_tag_value(k, val) for k, val in (tags or {}).items()}
        t = now_ms()
        try:
            with self.store.write() as conn:
                taken = conn.execute(
                    select(experiments.c.lifecycle_stage).where(experiments.c.name == name)
                ).first()
                if taken is not None:
                    hint = " (it is deleted: restore it or pick another name)" if taken[0] == "deleted" else ""
                    raise AlreadyExists(f"Experiment {name!r} already exists{hint}")
                result = conn.execute(
                    experiments.insert().values(
                        name=name,
                        artifact_location=artifact_location or "",
                        lifecycle_stage="active",
                        creation_time=t,
                        last_update_time=t,
                    )
                )
                pk = result.inserted_primary_key
                if pk is None:
                    raise InternalError(f"The database returned no id for the new experiment {name!r}")
                experiment_id = int(pk[0])
                if not artifact_location:
                    conn.execute(
                        update(experiments)
                        .where(experiments.c.experiment_id == experiment_id)
                        .values(artifact_location=self._default_location(experiment_id))
                    )
                if checked_tags:
                    conn.execute(
                        experiment_tags.insert(),
                        [{"experiment_id": experiment_id, "key": k, "value": val} for k, val in checked_tags.items()],
                    )
        except IntegrityError:
            raise AlreadyExists(f"Experiment {name!r} already exists") from None
        return str(experiment_id)

    def _load_experiments(self, conn: Connection, where) -> list[Experiment]:  # type: ignore[no-untyped-def]
        rows = conn.execute(select(experiments).where(where)).all()
        if not rows:
            return []
        ids = [r.experiment_id for r in rows]
        tag_rows = conn.execute(
            select(experiment_tags).where(experiment_tags.c.experiment_id.in_(ids))
        ).all()
        tags: dict[int, dict[str, str]] = {}
        for tr in tag_rows:
            tags.setdefault(tr.experiment_id, {})[tr.key] = tr.value
        return [
            Experiment(
                experiment_id=str(r.experiment_id),
                name=r.name,
                artifact_location=r.artifact_location,
                lifecycle_stage=r.lifecycle_stage,
                creation_time=r.creation_time,
                last_update_time=r.last_update_time,
                tags=tags.get(r.experiment_id, {}),
            )
            for r in rows
        ]

    def get_experiment(self, experiment_id: str) -> Experiment:
        eid = parse_experiment_id(experiment_id)
        with self.store.read() as conn:
            found = self._load_experiments(conn, experiments.c.experiment_id == eid)
        if not found:
            raise NotFound(f"No experiment with id {experiment_id!r}; list them with `stead experiments list`")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        name = v.check_experiment_name(name)
        with self.store.read() as conn:
            found = self._load_experiments(conn, experiments.c.name == name)
        return found[0] if found else None

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
        *,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> Page[Experiment]:
        """``where``: more conditions on ``experiments`` (a server's permission filter),
        applied before paging so that pages stay full."""
        from stead.tracking.search import apply_experiment_search

        if not 1 <= max_results <= 50000:
            raise InvalidParameter(f"max_results must be between 1 and 50000, got {max_results}")
        offset = decode_offset_token(page_token)
        stmt = select(experiments.c.experiment_id).where(
            experiments.c.lifecycle_stage.in_(view_type.stages()), *where
        )
        stmt = apply_experiment_search(stmt, filter_string, order_by)
        stmt = stmt.offset(offset).limit(max_results + 1)
        with self.store.read() as conn:
            ids = [r[0] for r in conn.execute(stmt)]
            page_ids = ids[:max_results]
            loaded = {e.experiment_id: e for e in self._load_experiments(conn, experiments.c.experiment_id.in_(page_ids))}
        items = [loaded[str(i)] for i in page_ids]
        token = encode_offset_token(offset + max_results) if len(ids) > max_results else None
        return Page(items, token)

    def _set_experiment_stage(self, experiment_id: str, stage: str) -> None:
        from stead.store.tables import runs

        eid = parse_experiment_id(experiment_id)
        if eid == 0 and stage == "deleted":
            raise InvalidParameter("The Default experiment (id 0) cannot be deleted")
        with self.store.write() as conn:
            current = conn.execute(
                select(experiments.c.lifecycle_stage).where(experiments.c.experiment_id == eid)
            ).scalar()
            if current is None:
                raise NotFound(f"No experiment with id {experiment_id!r}")
            t = now_ms()
            conn.execute(
                update(experiments)
                .where(experiments.c.experiment_id == eid)
                .values(lifecycle_stage=stage, last_update_time=t)
            )
            # Runs follow their experiment, as in MLflow.
            source_stage = "active" if stage == "deleted" else "deleted"
            conn.execute(
                update(runs)
                .where(runs.c.experiment_id == eid, runs.c.lifecycle_stage == source_stage)
                .values(lifecycle_stage=stage, deleted_time=t if stage == "deleted" else None)
            )

    def delete_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, "deleted")

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, "active")

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        eid = parse_experiment_id(experiment_id)
        new_name = v.check_experiment_name(new_name)
        try:
            with self.store.write() as conn:
                row = conn.execute(
                    select(experiments.c.lifecycle_stage).where(experiments.c.experiment_id == eid)
                ).first()
                if row is None:
                    raise NotFound(f"No experiment with id {experiment_id!r}")
                if row[0] != "active":
                    raise InvalidParameter(
                        f"Experiment {experiment_id} is deleted; restore it before renaming"
                    )
                clash = conn.execute(
                    select(experiments.c.experiment_id).where(
                        experiments.c.name == new_name, experiments.c.experiment_id != eid
                    )
                ).first()
                if clash:
                    raise AlreadyExists(f"Experiment {new_name!r} already exists")
                conn.execute(
                    update(experiments)
                    .where(experiments.c.experiment_id == eid)
                    .values(name=new_name, last_update_time=now_ms())
                )
        except IntegrityError:
            raise AlreadyExists(f"Experiment {new_name!r} already exists") from None

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        from stead.store.upsert import upsert

        eid = parse_experiment_id(experiment_id)
        key = v.check_key(key, "Tag")
        value = v.check_tag_value(key, value)
        with self.store.write() as conn:
            stage = conn.execute(
                select(experiments.c.lifecycle_stage).where(experiments.c.experiment_id == eid)
            ).scalar()
            if stage is None:
                raise NotFound(f"No experiment with id {experiment_id!r}")
            if stage != "active":
                raise InvalidParameter(f"Experiment {experiment_id} is deleted; restore it first")
            upsert(conn, experiment_tags, [{"experiment_id": eid, "key": key, "value": value}],
                   keys=("experiment_id", "key"), update=("value",))

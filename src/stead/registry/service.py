"""The registry in the metadata store: registered models, versions, aliases, stages.

``Registry(store, artifact_root)`` is the embedded backend: every method checks its input,
runs in one transaction, and raises a ``SteadError`` with one clear line. Every alias
move and deletion is written to the audit log in the same transaction as the move.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from stead.errors import AlreadyExists, InvalidParameter, NotFound
from stead.registry import names as n
from stead.registry.records import STAGES, AliasEvent, ModelVersion, RegisteredModel
from stead.registry.sources import check_source
from stead.registry.tables import (
    alias_events,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from stead.store import Store
from stead.store.tables import latest_metrics, run_inputs, runs, tags as run_tags
from stead.tracking.paging import decode_offset_token, encode_offset_token
from stead.tracking.records import Page

__all__ = ["Registry", "SEARCH_MODELS_DEFAULT", "SEARCH_VERSIONS_DEFAULT"]

SEARCH_MODELS_DEFAULT, SEARCH_MODELS_MAX = 100, 1000
SEARCH_VERSIONS_DEFAULT, SEARCH_VERSIONS_MAX = 10_000, 200_000
GIT_COMMIT_TAG = "mlflow.source.git.commit"
_RM = registered_models
_MV = model_versions


def _now() -> int:
    return int(time.time() * 1000)


def _model_missing(name: str) -> NotFound:
    return NotFound(f"Registered Model with name={name} not found")


def _version_missing(name: str, version: int) -> NotFound:
    return NotFound(f"Model Version (name={name}, version={version}) not found")


def _max_results(value: int | None, default: int, limit: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > limit:
        raise InvalidParameter(f"Invalid value {value!r} for max_results: it must be between 1 and {limit}")
    return value


class Registry:
    """Registry operations on a metadata store (SQLite or PostgreSQL)."""

    def __init__(
        self, store: Store, artifact_root: str, read_meta: Callable[[str], tuple[list[str], dict[str, Any] | None]] | None = None
    ) -> None:
        """``artifact_root``: sources must lie under it (or be runs:/, mlflow-artifacts:/);
        ``read_meta(location)``: the (flavors, signature) of the model directory there."""
        self.store = store
        self.artifact_root = artifact_root
        self.read_meta = read_meta

    # ---- lookups -------------------------------------------------------------------
    def _model_row(self, conn: Connection, name: Any, *, lock: bool = False) -> Row[Any]:
        canonical = n.check_model_name(name)
        stmt = select(_RM).where(_RM.c.name_key == n.name_key(canonical))
        if lock:
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first()
        if row is None:
            raise _model_missing(canonical)
        return row

    def _version_row(self, conn: Connection, model: Row[Any], version: Any) -> Row[Any]:
        number = n.check_version(version)
        row = conn.execute(
            select(_MV).where(_MV.c.model_id == model.id, _MV.c.version == number, _MV.c.deleted_time.is_(None))
        ).first()
        if row is None:
            raise _version_missing(model.name, number)
        return row

    def _versions(self, conn: Connection, rows: Sequence[Row[Any]], names: Mapping[int, str]) -> list[ModelVersion]:
        if not rows:
            return []
        ids = {r.model_id for r in rows}
        tag_map: dict[tuple[int, int], dict[str, str]] = {}
        for t in conn.execute(select(model_version_tags).where(model_version_tags.c.model_id.in_(ids))):
            tag_map.setdefault((t.model_id, t.version), {})[t.key] = t.value
        alias_map: dict[tuple[int, int], list[str]] = {}
        for a in conn.execute(
            select(registered_model_aliases)
            .where(registered_model_aliases.c.model_id.in_(ids))
            .order_by(registered_model_aliases.c.alias)
        ):
            alias_map.setdefault((a.model_id, a.version), []).append(a.alias)
        return [
            ModelVersion(
                name=names[r.model_id],
                version=r.version,
                creation_timestamp=r.creation_timestamp,
                last_updated_timestamp=r.last_updated_timestamp,
                source=r.source,
                storage_location=r.storage_location,
                run_id=r.run_id,
                run_link=r.run_link,
                user_id=r.user_id,
                current_stage=r.current_stage,
                description=r.description,
                status=r.status,
                status_message=r.status_message,
                tags=tag_map.get((r.model_id, r.version), {}),
                aliases=tuple(alias_map.get((r.model_id, r.version), [])),
                logged_model_id=r.logged_model_id,
                signature=json.loads(r.signature) if r.signature else None,
                flavors=tuple(json.loads(r.flavors or "[]")),
                metrics=json.loads(r.metrics or "{}"),
                datasets=tuple(json.loads(r.datasets or "[]")),
                git_commit=r.git_commit,
            )
            for r in rows
        ]

    def _models(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        names = {r.id: r.name for r in rows}
        tag_map: dict[int, dict[str, str]] = {}
        for t in conn.execute(select(registered_model_tags).where(registered_model_tags.c.model_id.in_(ids))):
            tag_map.setdefault(t.model_id, {})[t.key] = t.value
        alias_map: dict[int, dict[str, int]] = {}
        for a in conn.execute(
            select(registered_model_aliases)
            .where(registered_model_aliases.c.model_id.in_(ids))
            .order_by(registered_model_aliases.c.alias)
        ):
            alias_map.setdefault(a.model_id, {})[a.alias] = a.version
        # latest_versions: the newest version in each stage, as MLflow reports it
        newest = (
            select(_MV.c.model_id, _MV.c.current_stage, func.max(_MV.c.version).label("version"))
            .where(_MV.c.model_id.in_(ids), _MV.c.deleted_time.is_(None))
            .group_by(_MV.c.model_id, _MV.c.current_stage)
            .subquery()
        )
        latest_rows = conn.execute(
            select(_MV)
            .join(newest, and_(_MV.c.model_id == newest.c.model_id, _MV.c.version == newest.c.version))
            .order_by(_MV.c.version)
        ).all()
        latest: dict[int, list[ModelVersion]] = {}
        for mv, row in zip(self._versions(conn, latest_rows, names), latest_rows):
            latest.setdefault(row.model_id, []).append(mv)
        return [
            RegisteredModel(
                name=r.name,
                creation_timestamp=r.creation_timestamp,
                last_updated_timestamp=r.last_updated_timestamp,
                description=r.description,
                tags=tag_map.get(r.id, {}),
                aliases=alias_map.get(r.id, {}),
                latest_versions=tuple(latest.get(r.id, [])),
            )
            for r in rows
        ]

    def _touch(self, conn: Connection, model_id: int, now: int) -> None:
        conn.execute(update(_RM).where(_RM.c.id == model_id).values(last_updated_timestamp=now))

    # ---- registered models ---------------------------------------------------------
    def create_registered_model(
        self, name: str, tags: Mapping[str, str] | None = None, description: str | None = None
    ) -> RegisteredModel:
        canonical = n.check_model_name(name)
        checked = dict(n.check_tag(k, v) for k, v in (tags or {}).items())
        text = n.check_description(description)
        now = _now()
        try:
            with self.store.write() as conn:
                taken = conn.execute(
                    select(_RM.c.name).where(_RM.c.name_key == n.name_key(canonical))
                ).first()
                if taken is not None:
                    same = "" if taken.name == canonical else f" (as {taken.name!r}, which looks the same)"
                    raise AlreadyExists(f"Registered Model (name={canonical}) already exists{same}.")
                inserted = conn.execute(
                    insert(_RM).values(name=canonical, name_key=n.name_key(canonical), description=text,
                                       creation_timestamp=now, last_updated_timestamp=now)
                ).inserted_primary_key
                assert inserted is not None  # an INSERT of one row always reports its key
                model_id = inserted[0]
                if checked:
                    conn.execute(insert(registered_model_tags),
                                 [{"model_id": model_id, "key": k, "value": v} for k, v in checked.items()])
        except IntegrityError:
            raise AlreadyExists(f"Registered Model (name={canonical}) already exists.") from None
        return self.get_registered_model(canonical)

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self.store.read() as conn:
            return self._models(conn, [self._model_row(conn, name)])[0]

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        target = n.check_model_name(new_name, "New name")
        try:
            with self.store.write() as conn:
                row = self._model_row(conn, name, lock=True)
                clash = conn.execute(
                    select(_RM.c.name).where(_RM.c.name_key == n.name_key(target), _RM.c.id != row.id)
                ).first()
                if clash is not None:
                    raise AlreadyExists(f"Registered Model (name={target}) already exists.")
                conn.execute(update(_RM).where(_RM.c.id == row.id).values(
                    name=target, name_key=n.name_key(target), last_updated_timestamp=_now()))
        except IntegrityError:
            raise AlreadyExists(f"Registered Model (name={target}) already exists.") from None
        return self.get_registered_model(target)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        text = n.check_description(description)
        with self.store.write() as conn:
            row = self._model_row(conn, name)
            conn.execute(update(_RM).where(_RM.c.id == row.id).values(description=text, last_updated_timestamp=_now()))
        return self.get_registered_model(row.name)

    def delete_registered_model(self, name: str, *, user_id: str = "") -> None:
        """Delete the model, its versions, tags and aliases; alias removals are logged."""
        with self.store.write() as conn:
            row = self._model_row(conn, name, lock=True)
            now = _now()
            for a in conn.execute(select(registered_model_aliases).where(registered_model_aliases.c.model_id == row.id)):
                self._log(conn, row, a.alias, "delete", a.version, None, user_id, "registered model deleted", now)
            conn.execute(delete(registered_model_aliases).where(registered_model_aliases.c.model_id == row.id))
            conn.execute(delete(model_version_tags).where(model_version_tags.c.model_id == row.id))
            conn.execute(delete(_MV).where(_MV.c.model_id == row.id))
            conn.execute(delete(registered_model_tags).where(registered_model_tags.c.model_id == row.id))
            conn.execute(delete(_RM).where(_RM.c.id == row.id))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> Page[RegisteredModel]:
        """``where``: more conditions on ``registered_models`` (a server's permission
        filter), applied before paging so that pages stay full."""
        limit = _max_results(max_results, SEARCH_MODELS_DEFAULT, SEARCH_MODELS_MAX)
        offset = decode_offset_token(page_token)
        from stead.registry.search import model_conditions, model_order  # lark: loaded on first search

        stmt = model_order(select(_RM).where(*model_conditions(filter_string), *where), order_by)
        with self.store.read() as conn:
            rows = conn.execute(stmt.offset(offset).limit(limit + 1)).all()
            items = self._models(conn, rows[:limit])
        return Page(items, encode_offset_token(offset + limit) if len(rows) > limit else None)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        key, value = n.check_tag(key, value)
        with self.store.write() as conn:
            row = self._model_row(conn, name)
            conn.execute(delete(registered_model_tags).where(
                registered_model_tags.c.model_id == row.id, registered_model_tags.c.key == key))
            conn.execute(insert(registered_model_tags).values(model_id=row.id, key=key, value=value))
            self._touch(conn, row.id, _now())

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        with self.store.write() as conn:
            row = self._model_row(conn, name)
            conn.execute(delete(registered_model_tags).where(
                registered_model_tags.c.model_id == row.id, registered_model_tags.c.key == key))

    # ---- model versions ------------------------------------------------------------
    def _run_facts(self, conn: Connection, run_id: str) -> dict[str, Any]:
        run = conn.execute(select(runs.c.artifact_uri, runs.c.lifecycle_stage).where(runs.c.run_uuid == run_id)).first()
        if run is None:
            raise NotFound(f"Run {run_id!r} not found; register a model from an existing run")
        metrics = {
            m.key: m.value
            for m in conn.execute(select(latest_metrics.c.key, latest_metrics.c.value).where(latest_metrics.c.run_uuid == run_id))
        }
        datasets = [
            {k: v for k, v in (("name", d.name), ("digest", d.digest), ("uri", d.uri), ("context", d.context),
                               ("source", d.source)) if v}
            for d in conn.execute(select(run_inputs).where(run_inputs.c.run_uuid == run_id).order_by(run_inputs.c.id))
        ]
        commit = conn.execute(
            select(run_tags.c.value).where(run_tags.c.run_uuid == run_id, run_tags.c.key == GIT_COMMIT_TAG)
        ).scalar()
        return {"artifact_uri": run.artifact_uri, "metrics": metrics, "datasets": datasets, "git_commit": commit}

    def _resolve_models_source(self, conn: Connection, source: str) -> str:
        from stead.registry.uris import parse_model_uri

        ref = parse_model_uri(source)
        model = self._model_row(conn, ref.name)
        number = self._pick_version(conn, model, ref)
        return str(self._version_row(conn, model, number).storage_location)

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        *,
        user_id: str = "",
        logged_model_id: str | None = None,
        flavors: Sequence[str] = (),
        signature: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """A new version, numbered one past the highest ever used; the run's metrics,
        dataset inputs and git commit are copied onto it. Nothing is written on error."""
        checked = dict(n.check_tag(k, v) for k, v in (tags or {}).items())
        text = n.check_description(description)
        if run_id is not None and not isinstance(run_id, str):
            raise InvalidParameter(f"run_id must be a string, got {run_id!r}")
        run_id = run_id or None
        now = _now()
        with self.store.write() as conn:
            model = self._model_row(conn, name, lock=True)
            facts: dict[str, Any] = {"metrics": {}, "datasets": [], "git_commit": None, "artifact_uri": None}
            from_runs = isinstance(source, str) and source.startswith("runs:")
            if from_runs:
                from stead.registry.sources import parse_runs_uri

                source_run, _ = parse_runs_uri(source)
                run_id = run_id or source_run
                if source_run != run_id:
                    raise InvalidParameter(
                        f"Invalid model version source {source!r}: it names run {source_run} but run_id is {run_id}"
                    )
            if run_id:
                facts = self._run_facts(conn, run_id)
            if isinstance(source, str) and source.startswith("models:/") and logged_model_id is None:
                location = self._resolve_models_source(conn, source)
            elif isinstance(source, str) and source.startswith("models:/") and source[8:] == logged_model_id:
                location = source  # an MLflow 3 logged model; its artifacts are located on download
            else:
                location = check_source(source, artifact_root=self.artifact_root, run_id=run_id,
                                        run_artifact_uri=facts["artifact_uri"])
            if not flavors and signature is None and self.read_meta is not None and not location.startswith("models:"):
                found, signature = self.read_meta(location)
                flavors = tuple(found)
            version = (conn.execute(select(func.max(_MV.c.version)).where(_MV.c.model_id == model.id)).scalar() or 0) + 1
            conn.execute(insert(_MV).values(
                model_id=model.id, version=version, creation_timestamp=now, last_updated_timestamp=now,
                description=text, user_id=user_id or "", current_stage="None", source=source,
                storage_location=location, run_id=run_id, run_link=run_link or None,
                logged_model_id=logged_model_id or None, status="READY", status_message="",
                signature=json.dumps(dict(signature)) if signature else None,
                flavors=json.dumps(list(flavors)), metrics=json.dumps(facts["metrics"], allow_nan=True),
                datasets=json.dumps(facts["datasets"]), git_commit=facts["git_commit"],
            ))
            if checked:
                conn.execute(insert(model_version_tags), [
                    {"model_id": model.id, "version": version, "key": k, "value": v} for k, v in checked.items()])
            self._touch(conn, model.id, now)
        return self.get_model_version(model.name, version)

    def get_model_version(self, name: str, version: Any) -> ModelVersion:
        with self.store.read() as conn:
            model = self._model_row(conn, name)
            row = self._version_row(conn, model, version)
            return self._versions(conn, [row], {model.id: model.name})[0]

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        return self.get_model_version(name, version).storage_location

    def update_model_version(self, name: str, version: Any, description: str | None) -> ModelVersion:
        text = n.check_description(description)
        with self.store.write() as conn:
            model = self._model_row(conn, name)
            row = self._version_row(conn, model, version)
            conn.execute(update(_MV).where(_MV.c.model_id == model.id, _MV.c.version == row.version)
                         .values(description=text, last_updated_timestamp=_now()))
        return self.get_model_version(model.name, row.version)

    def delete_model_version(self, name: str, version: Any, *, user_id: str = "") -> None:
        """Delete a version (its number is never reused); aliases on it are removed and logged."""
        with self.store.write() as conn:
            model = self._model_row(conn, name, lock=True)
            row = self._version_row(conn, model, version)
            now = _now()
            for a in conn.execute(select(registered_model_aliases).where(
                    registered_model_aliases.c.model_id == model.id, registered_model_aliases.c.version == row.version)):
                self._log(conn, model, a.alias, "delete", row.version, None, user_id,
                          f"version {row.version} deleted", now)
            conn.execute(delete(registered_model_aliases).where(
                registered_model_aliases.c.model_id == model.id, registered_model_aliases.c.version == row.version))
            conn.execute(delete(model_version_tags).where(
                model_version_tags.c.model_id == model.id, model_version_tags.c.version == row.version))
            conn.execute(update(_MV).where(_MV.c.model_id == model.id, _MV.c.version == row.version).values(
                deleted_time=now, last_updated_timestamp=now, current_stage="Deleted"))
            self._touch(conn, model.id, now)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> Page[ModelVersion]:
        """``where``: more conditions on ``model_versions`` joined to ``registered_models``."""
        limit = _max_results(max_results, SEARCH_VERSIONS_DEFAULT, SEARCH_VERSIONS_MAX)
        offset = decode_offset_token(page_token)
        from stead.registry.search import version_conditions, version_order  # lark: loaded on first search

        stmt = (
            select(_MV, _RM.c.name.label("model_name"))
            .join(_RM, _RM.c.id == _MV.c.model_id)
            .where(_MV.c.deleted_time.is_(None), *version_conditions(filter_string), *where)
        )
        stmt = version_order(stmt, order_by)
        with self.store.read() as conn:
            rows = conn.execute(stmt.offset(offset).limit(limit + 1)).all()[: limit + 1]
            page = rows[:limit]
            items = self._versions(conn, page, {r.model_id: r.model_name for r in page})
        return Page(items, encode_offset_token(offset + limit) if len(rows) > limit else None)

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every live version of one model, newest first."""
        with self.store.read() as conn:
            model = self._model_row(conn, name)
            rows = conn.execute(select(_MV).where(_MV.c.model_id == model.id, _MV.c.deleted_time.is_(None))
                                .order_by(_MV.c.version.desc())).all()
            return self._versions(conn, rows, {model.id: model.name})

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when empty)."""
        wanted = [n.check_stage(s) for s in stages] if stages else list(STAGES)
        model = self.get_registered_model(name)
        return sorted((mv for mv in model.latest_versions if mv.current_stage in wanted), key=lambda mv: mv.version)

    def set_model_version_tag(self, name: str, version: Any, key: str, value: str) -> None:
        key, value = n.check_tag(key, value)
        with self.store.write() as conn:
            model = self._model_row(conn, name)
            row = self._version_row(conn, model, version)
            t = model_version_tags.c
            conn.execute(delete(model_version_tags).where(t.model_id == model.id, t.version == row.version, t.key == key))
            conn.execute(insert(model_version_tags).values(model_id=model.id, version=row.version, key=key, value=value))

    def delete_model_version_tag(self, name: str, version: Any, key: str) -> None:
        with self.store.write() as conn:
            model = self._model_row(conn, name)
            row = self._version_row(conn, model, version)
            t = model_version_tags.c
            conn.execute(delete(model_version_tags).where(t.model_id == model.id, t.version == row.version, t.key == key))

    def transition_model_version_stage(
        self, name: str, version: Any, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """MLflow's legacy stages; with ``archive_existing_versions`` the other versions in
        ``stage`` (Staging or Production only) move to Archived."""
        target = n.check_stage(stage)
        if archive_existing_versions:
            n.check_active_stage_for_archive(target)
        with self.store.write() as conn:
            model = self._model_row(conn, name, lock=True)
            row = self._version_row(conn, model, version)
            now = _now()
            if archive_existing_versions:
                conn.execute(update(_MV).where(
                    _MV.c.model_id == model.id, _MV.c.current_stage == target, _MV.c.version != row.version,
                    _MV.c.deleted_time.is_(None),
                ).values(current_stage="Archived", last_updated_timestamp=now))
            conn.execute(update(_MV).where(_MV.c.model_id == model.id, _MV.c.version == row.version)
                         .values(current_stage=target, last_updated_timestamp=now))
            self._touch(conn, model.id, now)
        return self.get_model_version(model.name, row.version)

    # ---- aliases -------------------------------------------------------------------
    def _log(self, conn: Connection, model: Row[Any], alias: str, action: str, old: int | None, new: int | None,
             user_id: str, reason: str, now: int) -> None:
        conn.execute(insert(alias_events).values(
            model_id=model.id, name=model.name, alias=alias, action=action, from_version=old, to_version=new,
            user_id=user_id or "", reason=reason or "", timestamp=now))

    def _current_alias(self, conn: Connection, model_id: int, alias: str) -> int | None:
        a = registered_model_aliases.c
        return conn.execute(select(a.version).where(a.model_id == model_id, a.alias == alias)).scalar()

    def _move(self, conn: Connection, model: Row[Any], alias: str, version: int, action: str,
              user_id: str, reason: str) -> None:
        old = self._current_alias(conn, model.id, alias)
        a = registered_model_aliases.c
        if old is None:
            conn.execute(insert(registered_model_aliases).values(model_id=model.id, alias=alias, version=version))
        else:
            conn.execute(update(registered_model_aliases).where(a.model_id == model.id, a.alias == alias)
                         .values(version=version))
        self._log(conn, model, alias, action, old, version, user_id, reason, _now())

    def set_registered_model_alias(self, name: str, alias: str, version: Any, *, user_id: str = "",
                                   reason: str = "") -> None:
        """Point ``alias`` at ``version`` (an existing version), recording the move."""
        alias = n.check_alias(alias, for_set=True)
        with self.store.write() as conn:
            model = self._model_row(conn, name, lock=True)
            row = self._version_row(conn, model, version)
            self._move(conn, model, alias, row.version, "set", user_id, reason)

    def delete_registered_model_alias(self, name: str, alias: str, *, user_id: str = "", reason: str = "") -> None:
        """Remove ``alias`` (a no-op when it is not set, as in MLflow); the removal is logged."""
        alias = n.check_alias(alias)
        with self.store.write() as conn:
            model = self._model_row(conn, name, lock=True)
            old = self._current_alias(conn, model.id, alias)
            if old is None:
                return
            a = registered_model_aliases.c
            conn.execute(delete(registered_model_aliases).where(a.model_id == model.id, a.alias == alias))
            self._log(conn, model, alias, "delete", old, None, user_id, reason, _now())

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        alias = n.check_alias(alias)
        with self.store.read() as conn:
            model = self._model_row(conn, name)
            if alias.lower() == "latest":
                number = self._latest_number(conn, model)
            else:
                current = self._current_alias(conn, model.id, alias)
                if current is None:
                    raise InvalidParameter(f"Registered model alias {alias} not found.")
                number = current
            row = self._version_row(conn, model, number)
            return self._versions(conn, [row], {model.id: model.name})[0]

    def _latest_number(self, conn: Connection, model: Row[Any]) -> int:
        number = conn.execute(select(func.max(_MV.c.version)).where(
            _MV.c.model_id == model.id, _MV.c.deleted_time.is_(None))).scalar()
        if number is None:
            raise NotFound(f"Latest version not found for model {model.name}.")
        return int(number)

    def _pick_version(self, conn: Connection, model: Row[Any], ref: Any) -> int:
        """The version a parsed ``models:/`` URI names: a number, an alias, latest or a stage."""
        if ref.alias is not None:
            if ref.alias.lower() == "latest":
                return self._latest_number(conn, model)
            number = self._current_alias(conn, model.id, ref.alias)
            if number is None:
                raise NotFound(f"Model {model.name!r} has no alias {ref.alias!r}; set it with "
                               f"`stead models alias set {model.name}@{ref.alias} <version>`")
            return int(number)
        if ref.version is not None:
            return int(ref.version)
        if ref.stage is None or ref.stage.lower() == "latest":
            return self._latest_number(conn, model)
        stage = n.check_stage(ref.stage)
        number = conn.execute(select(func.max(_MV.c.version)).where(
            _MV.c.model_id == model.id, _MV.c.current_stage == stage, _MV.c.deleted_time.is_(None))).scalar()
        if number is None:
            raise NotFound(f"Model {model.name!r} has no version in stage {stage}")
        return int(number)

    def resolve(self, uri: str) -> ModelVersion:
        """The version a ``models:/name/3``, ``models:/name@alias`` or ``models:/name/Production`` URI names."""
        from stead.registry.uris import parse_model_uri

        ref = parse_model_uri(uri)
        with self.store.read() as conn:
            model = self._model_row(conn, ref.name)
            row = self._version_row(conn, model, self._pick_version(conn, model, ref))
            return self._versions(conn, [row], {model.id: model.name})[0]

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """The audit log of one model (one alias, when given), oldest first."""
        with self.store.read() as conn:
            model = self._model_row(conn, name)
            e = alias_events.c
            stmt = select(alias_events).where(e.model_id == model.id)
            if alias is not None:
                stmt = stmt.where(e.alias == n.check_alias(alias))
            rows = conn.execute(stmt.order_by(e.id)).all()
        return [AliasEvent(r.id, r.name, r.alias, r.action, r.from_version, r.to_version, r.user_id, r.reason,
                           r.timestamp) for r in rows]

    def rollback_alias(self, name: str, alias: str, *, user_id: str = "", reason: str = "") -> ModelVersion:
        """Move ``alias`` back to the version it pointed to before its last move.

        The audit log is read as a stack: a move pushes the version it left, a rollback pops
        it, so repeated rollbacks walk further back. Versions deleted since are skipped.
        """
        alias = n.check_alias(alias)
        with self.store.write() as conn:
            model = self._model_row(conn, name, lock=True)
            e = alias_events.c
            events = conn.execute(select(alias_events).where(e.model_id == model.id, e.alias == alias)
                                  .order_by(e.id)).all()
            stack: list[int | None] = []
            for ev in events:
                if ev.action == "rollback":
                    if stack:
                        stack.pop()
                else:
                    stack.append(ev.from_version)
            current = self._current_alias(conn, model.id, alias)
            live = {v for (v,) in conn.execute(select(_MV.c.version).where(
                _MV.c.model_id == model.id, _MV.c.deleted_time.is_(None)))}
            while stack and (stack[-1] is None or stack[-1] not in live or stack[-1] == current):
                if stack[-1] is None:
                    break
                stack.pop()
            if not stack or stack[-1] is None:
                raise InvalidParameter(
                    f"Alias {alias!r} of model {model.name!r} has no earlier version to roll back to; "
                    f"see `stead models alias history {model.name}@{alias}`"
                )
            target = int(stack[-1])  # type: ignore[arg-type]
            self._move(conn, model, alias, target, "rollback", user_id, reason)
            row = self._version_row(conn, model, target)
            return self._versions(conn, [row], {model.id: model.name})[0]

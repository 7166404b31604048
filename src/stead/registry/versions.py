"""Model versions in the metadata store: create from a source, read, describe, tag, search, delete.

``ModelVersions`` is one part of the ``Registry`` service (``stead.registry.service``). A new
version is numbered one past the highest ever used and carries what its run knew (latest
metrics, dataset inputs, git commit), copied in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from stead.errors import InvalidParameter, NotFound
from stead.registry import names as n
from stead.registry.alias_log import log_alias_event
from stead.registry.records import ModelVersion
from stead.registry.refs import pick_version
from stead.registry.rows import check_max_results, model_row, now_ms, touch, version_records, version_row
from stead.registry.sources import check_source, parse_runs_uri
from stead.registry.tables import model_version_tags, model_versions, registered_model_aliases, registered_models
from stead.registry.uris import parse_model_uri
from stead.store import Store
from stead.store.tables import latest_metrics, run_inputs, runs, tags as run_tags
from stead.tracking.paging import decode_offset_token, encode_offset_token
from stead.tracking.records import Page

__all__ = ["ModelVersions", "MetaReader", "SEARCH_VERSIONS_DEFAULT", "SEARCH_VERSIONS_MAX", "GIT_COMMIT_TAG"]

SEARCH_VERSIONS_DEFAULT, SEARCH_VERSIONS_MAX = 10_000, 200_000
GIT_COMMIT_TAG = "mlflow.source.git.commit"
MetaReader = Callable[[str], tuple[list[str], dict[str, Any] | None]]
"""``read_meta(location)``: the (flavors, signature) of the model directory at ``location``."""

_RM = registered_models
_MV = model_versions


def _run_facts(conn: Connection, run_id: str) -> dict[str, Any]:
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


def _models_source_location(conn: Connection, source: str) -> str:
    """Where the files of the version that a ``models:/`` source names are."""
    ref = parse_model_uri(source)
    model = model_row(conn, ref.name)
    return str(version_row(conn, model, pick_version(conn, model, ref)).storage_location)


class ModelVersions:
    """Model-version operations of the registry service."""

    store: Store
    artifact_root: str
    read_meta: MetaReader | None

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
        now = now_ms()
        with self.store.write() as conn:
            model = model_row(conn, name, lock=True)
            facts: dict[str, Any] = {"metrics": {}, "datasets": [], "git_commit": None, "artifact_uri": None}
            from_runs = isinstance(source, str) and source.startswith("runs:")
            if from_runs:
                source_run, _ = parse_runs_uri(source)
                run_id = run_id or source_run
                if source_run != run_id:
                    raise InvalidParameter(
                        f"Invalid model version source {source!r}: it names run {source_run} but run_id is {run_id}"
                    )
            if run_id:
                facts = _run_facts(conn, run_id)
            if isinstance(source, str) and source.startswith("models:/") and logged_model_id is None:
                location = _models_source_location(conn, source)
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
            touch(conn, model.id, now)
        return self.get_model_version(model.name, version)

    def get_model_version(self, name: str, version: Any) -> ModelVersion:
        with self.store.read() as conn:
            model = model_row(conn, name)
            row = version_row(conn, model, version)
            return version_records(conn, [row], {model.id: model.name})[0]

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        return self.get_model_version(name, version).storage_location

    def update_model_version(self, name: str, version: Any, description: str | None) -> ModelVersion:
        text = n.check_description(description)
        with self.store.write() as conn:
            model = model_row(conn, name)
            row = version_row(conn, model, version)
            conn.execute(update(_MV).where(_MV.c.model_id == model.id, _MV.c.version == row.version)
                         .values(description=text, last_updated_timestamp=now_ms()))
        return self.get_model_version(model.name, row.version)

    def delete_model_version(self, name: str, version: Any, *, user_id: str = "") -> None:
        """Delete a version (its number is never reused); aliases on it are removed and logged."""
        aliases = registered_model_aliases
        with self.store.write() as conn:
            model = model_row(conn, name, lock=True)
            row = version_row(conn, model, version)
            now = now_ms()
            for a in conn.execute(select(aliases).where(
                    aliases.c.model_id == model.id, aliases.c.version == row.version)):
                log_alias_event(conn, model, a.alias, "delete", row.version, None, user_id,
                                f"version {row.version} deleted", now)
            conn.execute(delete(aliases).where(aliases.c.model_id == model.id, aliases.c.version == row.version))
            conn.execute(delete(model_version_tags).where(
                model_version_tags.c.model_id == model.id, model_version_tags.c.version == row.version))
            conn.execute(update(_MV).where(_MV.c.model_id == model.id, _MV.c.version == row.version).values(
                deleted_time=now, last_updated_timestamp=now, current_stage="Deleted"))
            touch(conn, model.id, now)

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
        limit = check_max_results(max_results, SEARCH_VERSIONS_DEFAULT, SEARCH_VERSIONS_MAX)
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
            items = version_records(conn, page, {r.model_id: r.model_name for r in page})
        return Page(items, encode_offset_token(offset + limit) if len(rows) > limit else None)

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every live version of one model, newest first."""
        with self.store.read() as conn:
            model = model_row(conn, name)
            rows = conn.execute(select(_MV).where(_MV.c.model_id == model.id, _MV.c.deleted_time.is_(None))
                                .order_by(_MV.c.version.desc())).all()
            return version_records(conn, rows, {model.id: model.name})

    def set_model_version_tag(self, name: str, version: Any, key: str, value: str) -> None:
        key, value = n.check_tag(key, value)
        with self.store.write() as conn:
            model = model_row(conn, name)
            row = version_row(conn, model, version)
            t = model_version_tags.c
            conn.execute(delete(model_version_tags).where(t.model_id == model.id, t.version == row.version, t.key == key))
            conn.execute(insert(model_version_tags).values(model_id=model.id, version=row.version, key=key, value=value))

    def delete_model_version_tag(self, name: str, version: Any, key: str) -> None:
        with self.store.write() as conn:
            model = model_row(conn, name)
            row = version_row(conn, model, version)
            t = model_version_tags.c
            conn.execute(delete(model_version_tags).where(t.model_id == model.id, t.version == row.version, t.key == key))

    def resolve(self, uri: str) -> ModelVersion:
        """The version a ``models:/name/3``, ``models:/name@alias`` or ``models:/name/Production`` URI names."""
        ref = parse_model_uri(uri)
        with self.store.read() as conn:
            model = model_row(conn, ref.name)
            row = version_row(conn, model, pick_version(conn, model, ref))
            return version_records(conn, [row], {model.id: model.name})[0]

"""MLflow's legacy stages (None, Staging, Production, Archived) of model versions.

``Stages`` is one part of the ``Registry`` service (``stead.registry.service``). Aliases
are stead's way to name a deployed version; stages stay for MLflow clients that use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update

from stead.registry import names as n
from stead.registry.records import STAGES, ModelVersion
from stead.registry.rows import model_records, model_row, now_ms, touch, version_records, version_row
from stead.registry.tables import model_versions
from stead.store import Store

__all__ = ["Stages"]

_MV = model_versions


class Stages:
    """Stage operations of the registry service."""

    store: Store

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when empty)."""
        wanted = [n.check_stage(s) for s in stages] if stages else list(STAGES)
        with self.store.read() as conn:
            model = model_records(conn, [model_row(conn, name)])[0]
        return sorted((mv for mv in model.latest_versions if mv.current_stage in wanted), key=lambda mv: mv.version)

    def transition_model_version_stage(
        self, name: str, version: Any, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """MLflow's legacy stages; with ``archive_existing_versions`` the other versions in
        ``stage`` (Staging or Production only) move to Archived."""
        target = n.check_stage(stage)
        if archive_existing_versions:
            n.check_active_stage_for_archive(target)
        with self.store.write() as conn:
            model = model_row(conn, name, lock=True)
            row = version_row(conn, model, version)
            now = now_ms()
            if archive_existing_versions:
                conn.execute(update(_MV).where(
                    _MV.c.model_id == model.id, _MV.c.current_stage == target, _MV.c.version != row.version,
                    _MV.c.deleted_time.is_(None),
                ).values(current_stage="Archived", last_updated_timestamp=now))
            conn.execute(update(_MV).where(_MV.c.model_id == model.id, _MV.c.version == row.version)
                         .values(current_stage=target, last_updated_timestamp=now))
            touch(conn, model.id, now)
        with self.store.read() as conn:
            model = model_row(conn, model.name)
            return version_records(conn, [version_row(conn, model, row.version)], {model.id: model.name})[0]

"""The tracking seam: one Protocol, two implementations (embedded store, stead server).

The client and the fluent API talk only to a ``TrackingBackend``; which one is chosen by the
settings (``STEAD_TRACKING_URI`` set to an http(s) URL selects the server).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from stead.store import Store
from stead.tracking.records import (
    Experiment,
    Metric,
    Page,
    Run,
    RunInfo,
    RunInput,
    RunStatus,
    ViewType,
)
from stead.tracking.sql_experiments import SqlExperiments
from stead.tracking.sql_runs import SqlRuns

__all__ = ["TrackingBackend", "EmbeddedBackend"]


class TrackingBackend(Protocol):
    """What tracking needs from wherever records live. Every method validates its input."""

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str: ...
    def get_experiment(self, experiment_id: str) -> Experiment: ...
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]: ...
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...
    def delete_experiment(self, experiment_id: str) -> None: ...
    def restore_experiment(self, experiment_id: str) -> None: ...
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

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
    ) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo: ...
    def delete_run(self, run_id: str) -> None: ...
    def restore_run(self, run_id: str) -> None: ...
    def log_batch(
        self,
        run_id: str,
        metric_points: Sequence[Metric] = (),
        param_items: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        tag_items: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    ) -> None: ...
    def delete_tag(self, run_id: str, key: str) -> None: ...
    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Metric]: ...
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]: ...
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None: ...
    def save_environment(self, env_hash: str, python: str, packages: str) -> None: ...
    def close(self) -> None: ...


class EmbeddedBackend(SqlExperiments, SqlRuns):
    """Tracking straight into a metadata store (SQLite or PostgreSQL) in this process.

    ``SqlExperiments`` and ``SqlRuns`` already use the ``TrackingBackend`` names, so this class
    only joins them over one store.
    """

    def __init__(self, store: Store, artifact_root: str) -> None:
        SqlExperiments.__init__(self, store, artifact_root)
        self.ensure_default()

    def close(self) -> None:
        self.store.dispose()

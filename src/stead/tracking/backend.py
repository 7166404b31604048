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


class EmbeddedBackend:
    """Tracking straight into a metadata store (SQLite or PostgreSQL) in this process."""

    def __init__(self, store: Store, artifact_root: str) -> None:
        self.store = store
        self.experiments = SqlExperiments(store, artifact_root)
        self.runs = SqlRuns(store)
        self.experiments.ensure_default()

    # experiments
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        return self.experiments.create(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.experiments.get(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.experiments.get_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        return self.experiments.search(view_type, max_results, filter_string, order_by, page_token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.experiments.rename(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self.experiments.delete(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.experiments.restore(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.experiments.set_tag(experiment_id, key, value)

    # runs
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
        return self.runs.create(
            experiment_id,
            user_id=user_id,
            start_time=start_time,
            tags=tags,
            run_name=run_name,
            parent_run_id=parent_run_id,
            environment_hash=environment_hash,
        )

    def get_run(self, run_id: str) -> Run:
        return self.runs.get(run_id)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        return self.runs.update(run_id, status=status, end_time=end_time, run_name=run_name)

    def delete_run(self, run_id: str) -> None:
        self.runs.set_stage(run_id, "deleted")

    def restore_run(self, run_id: str) -> None:
        self.runs.set_stage(run_id, "active")

    def log_batch(
        self,
        run_id: str,
        metric_points: Sequence[Metric] = (),
        param_items: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        tag_items: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    ) -> None:
        self.runs.log_batch(run_id, metric_points, param_items, tag_items, check_sizes=False)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.runs.delete_tag(run_id, key)

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Metric]:
        return self.runs.metric_history(run_id, key, max_results, page_token)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        return self.runs.search(experiment_ids, filter_string, view_type, max_results, order_by, page_token)

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        self.runs.log_inputs(run_id, inputs)

    def save_environment(self, env_hash: str, python: str, packages: str) -> None:
        self.runs.save_environment(env_hash, python, packages)

    def close(self) -> None:
        self.store.dispose()

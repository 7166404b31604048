"""The explicit tracking client: one object over a backend, an artifact store and a buffer."""

from __future__ import annotations

import atexit
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stead.config import Settings, load_settings
from stead.errors import InvalidParameter, NotFound
from stead.tracking import validation as v
from stead.tracking.buffer import MetricBuffer
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

if TYPE_CHECKING:
    from stead.artifacts import ArtifactStore, FileInfo
    from stead.tracking.backend import TrackingBackend

__all__ = ["TrackingClient", "open_backend"]

_LIVE_CLIENTS: "weakref.WeakSet[TrackingClient]" = weakref.WeakSet()


def _flush_all_at_exit() -> None:
    for client in list(_LIVE_CLIENTS):
        try:
            client.close()
        except Exception as exc:  # the process is ending; say what was lost
            print(f"stead: could not flush metrics at exit: {exc}", file=sys.stderr)


atexit.register(_flush_all_at_exit)


def open_backend(settings: Settings) -> "TrackingBackend":
    """The embedded store, or the stead server when ``tracking_uri`` is an http(s) URL."""
    if settings.is_remote:
        from stead.tracking.rest_backend import RestBackend

        return RestBackend(settings)
    from stead.config import prepare_home
    from stead.store import open_store
    from stead.tracking.backend import EmbeddedBackend

    prepare_home(settings)
    uri = settings.tracking_uri
    store_url = uri if uri and "://" in uri else settings.resolved_store_url
    return EmbeddedBackend(open_store(store_url), settings.resolved_artifacts_url)


def _now_ms() -> int:
    return int(time.time() * 1000)


class TrackingClient:
    """Experiments, runs, metrics and artifacts. Metric points are buffered; call ``flush``."""

    def __init__(self, settings: Settings | None = None, backend: "TrackingBackend | None" = None) -> None:
        self.settings = settings or load_settings()
        self.backend = backend or open_backend(self.settings)
        self._buffer = MetricBuffer(self._write_points)
        self._writable: set[str] = set()
        self._env_saved: set[str] = set()
        self._lock = threading.Lock()
        _LIVE_CLIENTS.add(self)

    # ---- experiments ---------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        return self.backend.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.backend.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.backend.get_experiment_by_name(name)

    def resolve_experiment(self, name_or_id: str, *, create: bool = False) -> Experiment:
        """An experiment by name (or numeric id); optionally created when missing."""
        found = self.backend.get_experiment_by_name(name_or_id)
        if found is None and name_or_id.isdigit():
            try:
                found = self.backend.get_experiment(name_or_id)
            except NotFound:
                found = None
        if found is None:
            if not create:
                raise NotFound(
                    f"No experiment named {name_or_id!r}; create it with `stead experiments create {name_or_id}`"
                )
            try:
                return self.backend.get_experiment(self.backend.create_experiment(name_or_id))
            except Exception:
                again = self.backend.get_experiment_by_name(name_or_id)  # another process won the race
                if again is None:
                    raise
                found = again
        if found.lifecycle_stage != "active":
            raise InvalidParameter(
                f"Experiment {found.name!r} is deleted; restore it with "
                f"`stead experiments restore {found.experiment_id}` or use another name"
            )
        return found

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        return self.backend.search_experiments(view_type, max_results, filter_string, order_by, page_token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.backend.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self.backend.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.backend.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.backend.set_experiment_tag(experiment_id, key, value)

    # ---- runs ----------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        record_context: bool = True,
    ) -> Run:
        """Start a run; with ``record_context`` it records git, Python, packages, host, user."""
        all_tags: dict[str, str] = {}
        env_hash = None
        user = ""
        if record_context:
            from stead.tracking.context import collect_context

            ctx = collect_context()
            user = ctx.user
            env_hash = ctx.environment_hash
            all_tags.update(ctx.tags())
            if env_hash not in self._env_saved:
                self.backend.save_environment(env_hash, ctx.python, ctx.packages)
                self._env_saved.add(env_hash)
        if parent_run_id:
            all_tags["mlflow.parentRunId"] = parent_run_id
        all_tags.update(tags or {})
        run = self.backend.create_run(
            experiment_id,
            user_id=user,
            start_time=start_time,
            tags=all_tags,
            run_name=run_name,
            parent_run_id=parent_run_id,
            environment_hash=env_hash,
        )
        self._writable.add(run.info.run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        return self.backend.get_run(run_id)

    def set_terminated(self, run_id: str, status: RunStatus | str = RunStatus.FINISHED, end_time: int | None = None) -> RunInfo:
        """End a run: flush its metrics first, so the finished run holds all of them."""
        self.flush()
        info = self.backend.update_run(run_id, status=status, end_time=end_time or _now_ms())
        self._writable.discard(run_id)
        return info

    def rename_run(self, run_id: str, name: str) -> RunInfo:
        return self.backend.update_run(run_id, run_name=name)

    def delete_run(self, run_id: str) -> None:
        self.backend.delete_run(run_id)
        self._writable.discard(run_id)

    def restore_run(self, run_id: str) -> None:
        self.backend.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        return self.backend.search_runs(experiment_ids, filter_string, view_type, max_results, order_by, page_token)

    # ---- logging -------------------------------------------------------------------
    def _check_writable(self, run_id: str) -> None:
        """Refuse logging to an unknown, finished or deleted run now, not at flush time."""
        if run_id in self._writable:
            return
        info = self.backend.get_run(run_id).info
        if info.lifecycle_stage != "active":
            raise InvalidParameter(f"Run {run_id} is deleted; restore it before logging to it")
        if info.status.is_terminal:
            raise InvalidParameter(
                f"Run {run_id} is {info.status.value}; it no longer accepts metrics. Start a new run."
            )
        self._writable.add(run_id)

    def log_metric(
        self, run_id: str, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Buffer one point; it is durable after ``flush()`` (or run end, or process exit)."""
        key = v.check_key(key, "Metric")
        value = v.check_metric_value(key, value)
        step = 0 if step is None else v.check_int(step, f"Step of metric {key!r}")
        ts = _now_ms() if timestamp is None else v.check_int(timestamp, f"Timestamp of metric {key!r}")
        self._check_writable(run_id)
        self._buffer.add(run_id, Metric(key, value, ts, step))

    def log_metrics(self, run_id: str, values: Mapping[str, float], step: int | None = None, timestamp: int | None = None) -> None:
        ts = _now_ms() if timestamp is None else timestamp
        points = []
        for key, value in values.items():
            key = v.check_key(key, "Metric")
            points.append(
                Metric(key, v.check_metric_value(key, value), v.check_int(ts, "timestamp"),
                       0 if step is None else v.check_int(step, f"Step of metric {key!r}"))
            )
        self._check_writable(run_id)
        self._buffer.add_many(run_id, points)

    def _write_points(self, run_id: str, points: Sequence[Metric]) -> None:
        self.backend.log_batch(run_id, metric_points=points)

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self.backend.log_batch(run_id, param_items=[(key, v.check_param_value(key, value))])

    def log_params(self, run_id: str, values: Mapping[str, Any]) -> None:
        items = [(k, v.check_param_value(k, val)) for k, val in values.items()]
        for i in range(0, len(items), v.MAX_PARAMS_TAGS_PER_BATCH):
            self.backend.log_batch(run_id, param_items=items[i : i + v.MAX_PARAMS_TAGS_PER_BATCH])

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.backend.log_batch(run_id, tag_items=[(key, v.check_tag_value(key, value))])

    def set_tags(self, run_id: str, values: Mapping[str, Any]) -> None:
        items = [(k, v.check_tag_value(k, val)) for k, val in values.items()]
        for i in range(0, len(items), v.MAX_PARAMS_TAGS_PER_BATCH):
            self.backend.log_batch(run_id, tag_items=items[i : i + v.MAX_PARAMS_TAGS_PER_BATCH])

    def delete_tag(self, run_id: str, key: str) -> None:
        self.backend.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Write metrics, params and tags now, in one transaction per 1,000 entities."""
        p = [(k, v.check_param_value(k, val)) for k, val in (params or {}).items()]
        t = [(k, v.check_tag_value(k, val)) for k, val in (tags or {}).items()]
        self.backend.log_batch(run_id, metric_points=list(metrics[:v.MAX_METRICS_PER_BATCH]), param_items=p, tag_items=t)
        rest = list(metrics[v.MAX_METRICS_PER_BATCH:])
        for i in range(0, len(rest), v.MAX_METRICS_PER_BATCH):
            self.backend.log_batch(run_id, metric_points=rest[i : i + v.MAX_METRICS_PER_BATCH])

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        self.backend.log_inputs(run_id, inputs)

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Metric]:
        return self.backend.get_metric_history(run_id, key, max_results, page_token)

    def flush(self) -> None:
        """Make every metric point logged so far durable; raises if a write failed."""
        self._buffer.flush()

    # ---- artifacts -----------------------------------------------------------------
    def run_artifacts(self, run_id: str) -> "ArtifactStore":
        """The artifact store rooted at this run's artifact folder."""
        return self.artifacts_at(self.backend.get_run(run_id).info.artifact_uri)

    def artifacts_at(self, uri: str) -> "ArtifactStore":
        from stead.artifacts import open_artifact_store

        if uri.startswith("mlflow-artifacts:"):
            from stead.tracking.rest_artifacts import open_proxied_artifacts

            return open_proxied_artifacts(self.settings, uri)
        return open_artifact_store(uri, self.settings.aws)

    def log_artifact(self, run_id: str, local_path: str | Path, artifact_path: str | None = None) -> None:
        local = Path(local_path)
        if not local.exists():
            raise NotFound(f"Cannot log artifact: {local} does not exist")
        store = self.run_artifacts(run_id)
        prefix = (artifact_path or "").strip("/")
        if local.is_dir():
            store.put_dir(local, prefix)
        else:
            store.put_file(local, f"{prefix}/{local.name}" if prefix else local.name)

    def log_artifacts(self, run_id: str, local_dir: str | Path, artifact_path: str | None = None) -> None:
        local = Path(local_dir)
        if not local.is_dir():
            raise InvalidParameter(f"Cannot log artifacts: {local} is not a directory")
        self.run_artifacts(run_id).put_dir(local, (artifact_path or "").strip("/"))

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self.run_artifacts(run_id).put_bytes(text.encode(), artifact_file)

    def list_artifacts(self, run_id: str, path: str = "") -> list["FileInfo"]:
        return self.run_artifacts(run_id).list(path)

    def download_artifacts(self, run_id: str, path: str, dst: str | Path) -> Path:
        store = self.run_artifacts(run_id)
        target = Path(dst)
        if store.is_dir(path):
            store.get_dir(path, target)
            return target
        target.mkdir(parents=True, exist_ok=True)
        out = target / Path(path).name
        store.get_file(path, out)
        return out

    def close(self) -> None:
        """Flush buffered metrics and release the backend."""
        self._buffer.close()

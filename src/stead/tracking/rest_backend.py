"""``RestBackend``: the ``TrackingBackend`` Protocol over a stead (or MLflow) server's REST API.

One keep-alive httpx client per backend; connection failures are retried; MLflow error
bodies come back as the matching ``SteadError`` subclass (same ``code``), so code written
against the embedded store behaves the same against a server.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx

from stead import errors as E
from stead.config import Settings
from stead.tracking.records import Experiment, Metric, Page, Run, RunInfo, RunInput, RunStatus, ViewType
from stead.wire.errors import error_from_json
from stead.wire.fields import key_values_json
from stead.wire.tracking_json import (
    experiment_from_json,
    metric_from_json,
    metric_json,
    run_from_json,
    run_info_from_json,
    run_input_json,
)

__all__ = ["RestBackend", "http_client", "raise_for_error"]

_RETRIES = 3


def raise_for_error(response: httpx.Response) -> None:
    """Raise the SteadError an error response stands for (``stead.wire.errors``)."""
    if response.status_code == 200:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    raise error_from_json(response.status_code, body, f"{response.request.method} {response.request.url.path}")


def http_client(settings: Settings) -> httpx.Client:
    """A keep-alive client for ``settings.tracking_uri`` with its credentials."""
    headers = {"User-Agent": "stead"}
    auth: httpx.Auth | None = None
    if settings.tracking_token:
        headers["Authorization"] = f"Bearer {settings.tracking_token}"
    elif settings.tracking_username:
        auth = httpx.BasicAuth(settings.tracking_username, settings.tracking_password or "")
    return httpx.Client(
        base_url=str(settings.tracking_uri).rstrip("/"),
        headers=headers,
        auth=auth,
        timeout=httpx.Timeout(120.0, connect=10.0),
        transport=httpx.HTTPTransport(retries=_RETRIES),
    )


class RestBackend:
    """Tracking through a stead server (``STEAD_TRACKING_URI=http://...``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http = http_client(settings)

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        url = "/api/2.0/mlflow/" + path
        last: Exception | None = None
        for attempt in range(_RETRIES + 1):
            try:
                if method == "GET":
                    params = {k: v for k, v in (body or {}).items() if v is not None}
                    response = self.http.get(url, params=params)
                else:
                    response = self.http.request(method, url, json=body or {})
                break
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                last = exc
                time.sleep(0.1 * 2**attempt)
        else:
            raise E.BackendUnavailable(
                f"stead server {self.settings.tracking_uri} cannot be reached: {last}. Is `stead server` running?"
            )
        raise_for_error(response)
        return response.json() if response.content else {}

    # ---- experiments -----------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        body: dict[str, Any] = {"name": name, "tags": key_values_json(tags or {})}
        if artifact_location:
            body["artifact_location"] = artifact_location
        return str(self._call("POST", "experiments/create", body)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        return experiment_from_json(self._call("GET", "experiments/get", {"experiment_id": experiment_id})["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            body = self._call("GET", "experiments/get-by-name", {"experiment_name": name})
        except E.NotFound:
            return None
        return experiment_from_json(body["experiment"])

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        body = self._call("POST", "experiments/search", {
            "view_type": ViewType(view_type).value, "max_results": max_results, "filter": filter_string,
            "order_by": list(order_by or []), "page_token": page_token,
        })
        return Page([experiment_from_json(e) for e in body.get("experiments", [])], body.get("next_page_token"))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._call("POST", "experiments/update", {"experiment_id": experiment_id, "new_name": new_name})

    def delete_experiment(self, experiment_id: str) -> None:
        self._call("POST", "experiments/delete", {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self._call("POST", "experiments/restore", {"experiment_id": experiment_id})

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._call("POST", "experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": key, "value": value})

    # ---- runs ------------------------------------------------------------------------
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
        all_tags = dict(tags or {})
        if parent_run_id:
            all_tags["mlflow.parentRunId"] = parent_run_id
        body: dict[str, Any] = {
            "experiment_id": str(experiment_id),
            "user_id": user_id,
            "start_time": start_time if start_time is not None else int(time.time() * 1000),
            "tags": key_values_json(all_tags),
            "stead_environment_hash": environment_hash,
        }
        if run_name:
            body["run_name"] = run_name
        return run_from_json(self._call("POST", "runs/create", body)["run"])

    def get_run(self, run_id: str) -> Run:
        return run_from_json(self._call("GET", "runs/get", {"run_id": run_id})["run"])

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        body: dict[str, Any] = {"run_id": run_id, "run_uuid": run_id}
        if status is not None:
            body["status"] = RunStatus(status).value if not isinstance(status, RunStatus) else status.value
        if end_time is not None:
            body["end_time"] = end_time
        if run_name is not None:
            body["run_name"] = run_name
        return run_info_from_json(self._call("POST", "runs/update", body)["run_info"])

    def delete_run(self, run_id: str) -> None:
        self._call("POST", "runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self._call("POST", "runs/restore", {"run_id": run_id})

    def log_batch(
        self,
        run_id: str,
        metric_points: Sequence[Metric] = (),
        param_items: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        tag_items: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    ) -> None:
        params = list(param_items.items()) if isinstance(param_items, Mapping) else list(param_items)
        tags = list(tag_items.items()) if isinstance(tag_items, Mapping) else list(tag_items)
        self._call("POST", "runs/log-batch", {
            "run_id": run_id,
            "metrics": [metric_json(m) for m in metric_points],
            "params": [{"key": k, "value": v} for k, v in params],
            "tags": [{"key": k, "value": v} for k, v in tags],
        })

    def delete_tag(self, run_id: str, key: str) -> None:
        self._call("POST", "runs/delete-tag", {"run_id": run_id, "key": key})

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Metric]:
        body = self._call("GET", "metrics/get-history", {
            "run_id": run_id, "metric_key": key, "max_results": max_results, "page_token": page_token})
        return Page([metric_from_json(m) for m in body.get("metrics", [])], body.get("next_page_token"))

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        body = self._call("POST", "runs/search", {
            "experiment_ids": [str(e) for e in experiment_ids], "filter": filter_string,
            "run_view_type": ViewType(view_type).value, "max_results": max_results,
            "order_by": list(order_by or []), "page_token": page_token,
        })
        return Page([run_from_json(r) for r in body.get("runs", [])], body.get("next_page_token"))

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        # a stead dataset version travels as its data:/ URI in MLflow's source field
        datasets = [run_input_json(replace(i, source=i.uri or i.source)) for i in inputs]
        self._call("POST", "runs/log-inputs", {"run_id": run_id, "datasets": datasets})

    def save_environment(self, env_hash: str, python: str, packages: str) -> None:
        """Environments are a stead extension; a server without the endpoint just skips them."""
        response = self.http.post("/api/stead/v1/environments",
                                  json={"hash": env_hash, "python": python, "packages": packages})
        if response.status_code == 404:
            return
        raise_for_error(response)

    def close(self) -> None:
        self.http.close()

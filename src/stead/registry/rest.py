"""The registry through a stead server: the MLflow registry REST API over httpx.

``RestRegistry(settings)`` has the same methods as the embedded ``Registry``; a server
error comes back as the ``SteadError`` with the same code and message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stead.config import Settings
from stead.errors import BackendUnavailable
from stead.registry.records import AliasEvent, ModelVersion, RegisteredModel
from stead.tracking.records import Page
from stead.wire.errors import error_from_json
from stead.wire.registry_json import alias_event_from_json, model_version_from_json, registered_model_from_json

__all__ = ["RestRegistry"]

_RM = "/api/2.0/mlflow/registered-models"
_MV = "/api/2.0/mlflow/model-versions"
_STEAD = "/api/2.0/stead/registered-models"


def _tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)} for k, v in (tags or {}).items()]


class RestRegistry:
    """Registry calls to the stead server at ``settings.tracking_uri``."""

    def __init__(self, settings: Settings, client: Any = None) -> None:
        import httpx

        auth: Any = None
        headers = {}
        if settings.tracking_token:
            headers["Authorization"] = f"Bearer {settings.tracking_token}"
        elif settings.tracking_username:
            auth = (settings.tracking_username, settings.tracking_password or "")
        self.base = str(settings.tracking_uri).rstrip("/")
        self.http = client or httpx.Client(base_url=self.base, headers=headers, auth=auth, timeout=60.0,
                                           follow_redirects=False)

    def _call(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        import httpx

        params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            if method == "GET":
                resp = self.http.request(method, path, params=params)
            else:
                resp = self.http.request(method, path, json=params)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"stead server {self.base} cannot be reached: {exc}") from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code != 200:
            raise error_from_json(resp.status_code, body, f"{method} {path}")
        return body or {}

    # registered models
    def create_registered_model(self, name: str, tags: Mapping[str, str] | None = None,
                                description: str | None = None) -> RegisteredModel:
        out = self._call("POST", f"{_RM}/create", {"name": name, "tags": _tags(tags), "description": description})
        return registered_model_from_json(out["registered_model"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        return registered_model_from_json(self._call("GET", f"{_RM}/get", {"name": name})["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        out = self._call("POST", f"{_RM}/rename", {"name": name, "new_name": new_name})
        return registered_model_from_json(out["registered_model"])

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        out = self._call("PATCH", f"{_RM}/update", {"name": name, "description": description or ""})
        return registered_model_from_json(out["registered_model"])

    def delete_registered_model(self, name: str, *, user_id: str = "") -> None:
        self._call("DELETE", f"{_RM}/delete", {"name": name})

    def search_registered_models(self, filter_string: str | None = None, max_results: int | None = None,
                                 order_by: Sequence[str] | None = None,
                                 page_token: str | None = None) -> Page[RegisteredModel]:
        out = self._call("GET", f"{_RM}/search", {"filter": filter_string, "max_results": max_results,
                                                  "order_by": list(order_by or []) or None, "page_token": page_token})
        return Page([registered_model_from_json(m) for m in out.get("registered_models", [])],
                    out.get("next_page_token") or None)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._call("POST", f"{_RM}/set-tag", {"name": name, "key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call("DELETE", f"{_RM}/delete-tag", {"name": name, "key": key})

    # model versions
    def create_model_version(self, name: str, source: str, run_id: str | None = None,
                             tags: Mapping[str, str] | None = None, run_link: str | None = None,
                             description: str | None = None, *, user_id: str = "",
                             logged_model_id: str | None = None, flavors: Sequence[str] = (),
                             signature: Mapping[str, Any] | None = None) -> ModelVersion:
        out = self._call("POST", f"{_MV}/create", {
            "name": name, "source": source, "run_id": run_id, "tags": _tags(tags), "run_link": run_link,
            "description": description, "model_id": logged_model_id})
        return model_version_from_json(out["model_version"])

    def get_model_version(self, name: str, version: Any) -> ModelVersion:
        out = self._call("GET", f"{_MV}/get", {"name": name, "version": str(version)})
        return model_version_from_json(out["model_version"])

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        return str(self._call("GET", f"{_MV}/get-download-uri", {"name": name, "version": str(version)})["artifact_uri"])

    def update_model_version(self, name: str, version: Any, description: str | None) -> ModelVersion:
        out = self._call("PATCH", f"{_MV}/update", {"name": name, "version": str(version),
                                                    "description": description or ""})
        return model_version_from_json(out["model_version"])

    def delete_model_version(self, name: str, version: Any, *, user_id: str = "") -> None:
        self._call("DELETE", f"{_MV}/delete", {"name": name, "version": str(version)})

    def search_model_versions(self, filter_string: str | None = None, max_results: int | None = None,
                              order_by: Sequence[str] | None = None,
                              page_token: str | None = None) -> Page[ModelVersion]:
        out = self._call("GET", f"{_MV}/search", {"filter": filter_string, "max_results": max_results,
                                                  "order_by": list(order_by or []) or None, "page_token": page_token})
        return Page([model_version_from_json(v) for v in out.get("model_versions", [])],
                    out.get("next_page_token") or None)

    def list_versions(self, name: str) -> list[ModelVersion]:
        escaped = name.replace("'", "''")
        out: list[ModelVersion] = []
        token = None
        while True:
            page = self.search_model_versions(f"name = '{escaped}'", 1000, ["version_number DESC"], token)
            out.extend(page.items)
            token = page.next_page_token
            if not token:
                return out

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        out = self._call("POST", f"{_RM}/get-latest-versions", {"name": name, "stages": list(stages or [])})
        return [model_version_from_json(v) for v in out.get("model_versions", [])]

    def set_model_version_tag(self, name: str, version: Any, key: str, value: str) -> None:
        self._call("POST", f"{_MV}/set-tag", {"name": name, "version": str(version), "key": key, "value": value})

    def delete_model_version_tag(self, name: str, version: Any, key: str) -> None:
        self._call("DELETE", f"{_MV}/delete-tag", {"name": name, "version": str(version), "key": key})

    def transition_model_version_stage(self, name: str, version: Any, stage: str,
                                       archive_existing_versions: bool = False) -> ModelVersion:
        out = self._call("POST", f"{_MV}/transition-stage", {
            "name": name, "version": str(version), "stage": stage,
            "archive_existing_versions": archive_existing_versions})
        return model_version_from_json(out["model_version"])

    # aliases
    def set_registered_model_alias(self, name: str, alias: str, version: Any, *, user_id: str = "",
                                   reason: str = "") -> None:
        self._call("POST", f"{_RM}/alias", {"name": name, "alias": alias, "version": str(version),
                                            "reason": reason or None})

    def delete_registered_model_alias(self, name: str, alias: str, *, user_id: str = "", reason: str = "") -> None:
        self._call("DELETE", f"{_RM}/alias", {"name": name, "alias": alias, "reason": reason or None})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        out = self._call("GET", f"{_RM}/alias", {"name": name, "alias": alias})
        return model_version_from_json(out["model_version"])

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        out = self._call("GET", f"{_STEAD}/alias-history", {"name": name, "alias": alias})
        return [alias_event_from_json(e) for e in out.get("events", [])]

    def rollback_alias(self, name: str, alias: str, *, user_id: str = "", reason: str = "") -> ModelVersion:
        out = self._call("POST", f"{_STEAD}/rollback", {"name": name, "alias": alias, "reason": reason or None})
        return model_version_from_json(out["model_version"])

    def resolve(self, uri: str) -> ModelVersion:
        from stead.registry.uris import parse_model_uri

        ref = parse_model_uri(uri)
        if ref.alias is not None:
            return self.get_model_version_by_alias(ref.name, ref.alias)
        if ref.version is not None:
            return self.get_model_version(ref.name, ref.version)
        if ref.stage is None or ref.stage.lower() == "latest":
            versions = self.list_versions(ref.name)
            if not versions:
                from stead.errors import NotFound

                raise NotFound(f"Latest version not found for model {ref.name}.")
            return versions[0]
        found = self.get_latest_versions(ref.name, [ref.stage])
        if not found:
            from stead.errors import NotFound

            raise NotFound(f"Model {ref.name!r} has no version in stage {ref.stage}")
        return found[-1]

    # MLflow 3 logged models (what their models:/m-<id> URIs resolve through)
    def logged_model_artifact_uri(self, model_id: str) -> str:
        """Where the server keeps logged model ``model_id``'s files ("" when it says nothing)."""
        body = self._call("GET", f"/api/2.0/mlflow/logged-models/{model_id}")
        return str(((body.get("model") or {}).get("info") or {}).get("artifact_uri") or "")

    def close(self) -> None:
        self.http.close()

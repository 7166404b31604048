"""The registry client: register models, move aliases, roll back, find versions.

``RegistryClient()`` works on the embedded store, or on a stead server when
``STEAD_TRACKING_URI`` is http(s); the module functions (``register_model``,
``set_alias``, ``rollback``...) use one default client built from the settings.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from stead.config import Settings, load_settings
from stead.errors import AlreadyExists, InvalidParameter, NotFound
from stead.registry.records import AliasEvent, ModelVersion, RegisteredModel
from stead.tracking.records import Page

if TYPE_CHECKING:
    from stead.tracking.client import TrackingClient

__all__ = ["RegistryBackend", "RegistryClient", "open_registry_backend"]


class RegistryBackend(Protocol):
    """What the client needs from wherever registry records live (``Registry``, ``RestRegistry``)."""

    def create_registered_model(self, name: str, tags: Mapping[str, str] | None = None,
                                description: str | None = None) -> RegisteredModel: ...
    def get_registered_model(self, name: str) -> RegisteredModel: ...
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel: ...
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel: ...
    def delete_registered_model(self, name: str, *, user_id: str = "") -> None: ...
    def search_registered_models(self, filter_string: str | None = None, max_results: int | None = None,
                                 order_by: Sequence[str] | None = None,
                                 page_token: str | None = None) -> Page[RegisteredModel]: ...
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...
    def delete_registered_model_tag(self, name: str, key: str) -> None: ...
    def create_model_version(self, name: str, source: str, run_id: str | None = None,
                             tags: Mapping[str, str] | None = None, run_link: str | None = None,
                             description: str | None = None, *, user_id: str = "",
                             logged_model_id: str | None = None, flavors: Sequence[str] = (),
                             signature: Mapping[str, Any] | None = None) -> ModelVersion: ...
    def get_model_version(self, name: str, version: Any) -> ModelVersion: ...
    def get_model_version_download_uri(self, name: str, version: Any) -> str: ...
    def update_model_version(self, name: str, version: Any, description: str | None) -> ModelVersion: ...
    def delete_model_version(self, name: str, version: Any, *, user_id: str = "") -> None: ...
    def search_model_versions(self, filter_string: str | None = None, max_results: int | None = None,
                              order_by: Sequence[str] | None = None,
                              page_token: str | None = None) -> Page[ModelVersion]: ...
    def list_versions(self, name: str) -> list[ModelVersion]: ...
    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]: ...
    def set_model_version_tag(self, name: str, version: Any, key: str, value: str) -> None: ...
    def delete_model_version_tag(self, name: str, version: Any, key: str) -> None: ...
    def transition_model_version_stage(self, name: str, version: Any, stage: str,
                                       archive_existing_versions: bool = False) -> ModelVersion: ...
    def set_registered_model_alias(self, name: str, alias: str, version: Any, *, user_id: str = "",
                                   reason: str = "") -> None: ...
    def delete_registered_model_alias(self, name: str, alias: str, *, user_id: str = "",
                                      reason: str = "") -> None: ...
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...
    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]: ...
    def rollback_alias(self, name: str, alias: str, *, user_id: str = "", reason: str = "") -> ModelVersion: ...
    def resolve(self, uri: str) -> ModelVersion: ...


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def open_registry_backend(settings: Settings, tracking: "TrackingClient") -> RegistryBackend:
    """The stead server's registry when the settings name one, else the embedded store's."""
    if settings.is_remote:
        from stead.registry.rest import RestRegistry

        return RestRegistry(settings)
    from stead.registry.mlmodel_meta import read_model_meta
    from stead.registry.service import Registry

    store = getattr(tracking.backend, "store", None)
    if store is None:
        from stead.store import open_store

        store = open_store(settings.resolved_store_url)

    def read_meta(location: str) -> tuple[list[str], dict[str, Any] | None]:
        return read_model_meta(tracking.artifacts_at(location), "")

    return Registry(store, settings.resolved_artifacts_url, read_meta=read_meta)


def split_name_ref(ref: str) -> tuple[str, str | None, str | None]:
    """``churn@production`` -> (churn, None, production); ``churn/3`` -> (churn, 3, None); ``churn`` -> (churn, None, None)."""
    if ref.startswith("models:/"):
        ref = ref[len("models:/"):]
    if "@" in ref:
        name, alias = ref.rsplit("@", 1)
        return name, None, alias
    if "/" in ref:
        name, version = ref.rsplit("/", 1)
        return name, version, None
    return ref, None, None


class RegistryClient:
    """Registered models, versions and aliases, on the store or server the settings name."""

    def __init__(self, settings: Settings | None = None, backend: RegistryBackend | None = None,
                 tracking: "TrackingClient | None" = None, user: str | None = None) -> None:
        from stead.tracking.client import TrackingClient

        self.settings = settings or (tracking.settings if tracking else load_settings())
        self.tracking = tracking or TrackingClient(self.settings)
        self.backend = backend or open_registry_backend(self.settings, self.tracking)
        self.user = _user() if user is None else user

    @classmethod
    def from_tracking(cls, tracking: "TrackingClient | None") -> "RegistryClient":
        return cls(tracking=tracking) if tracking is not None else cls()

    # ---- registering -----------------------------------------------------------------
    def register_model(self, model_uri: str, name: str, *, tags: Mapping[str, str] | None = None,
                       description: str | None = None) -> ModelVersion:
        """Register the model at ``model_uri`` (``runs:/<run_id>/<path>``) as a new version of
        ``name``, creating the registered model on first use.

        The run must exist and hold an artifact at ``path``; otherwise nothing is written.
        """
        from stead.registry.names import check_model_name
        from stead.registry.sources import parse_runs_uri

        name = check_model_name(name)
        run_id: str | None = None
        if model_uri.startswith("runs:"):
            run_id, path = parse_runs_uri(model_uri)
            try:
                store = self.tracking.run_artifacts(run_id)
            except NotFound:
                raise NotFound(f"Cannot register {model_uri}: run {run_id} does not exist") from None
            if not path or not store.exists(path):
                raise NotFound(
                    f"Cannot register {model_uri}: run {run_id} has no artifact {path!r}; "
                    f"log the model first (stead.log_model(..., name={path or 'model'!r}))"
                )
        elif not model_uri.startswith(("models:/", "mlflow-artifacts:")):
            raise InvalidParameter(
                f"Cannot register {model_uri!r}: pass runs:/<run_id>/<path> (the model logged in a run)"
            )
        created = False
        try:
            self.backend.get_registered_model(name)
        except NotFound:
            try:
                self.backend.create_registered_model(name)
                created = True
            except AlreadyExists:
                pass  # another process created it first
        try:
            return self.backend.create_model_version(name, model_uri, run_id, tags, None, description,
                                                     user_id=self.user)
        except BaseException:
            if created:  # leave nothing behind
                self.backend.delete_registered_model(name, user_id=self.user)
            raise

    # ---- pass-through ----------------------------------------------------------------
    def create_registered_model(self, name: str, tags: Mapping[str, str] | None = None,
                                description: str | None = None) -> RegisteredModel:
        return self.backend.create_registered_model(name, tags, description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.backend.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self.backend.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        return self.backend.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        self.backend.delete_registered_model(name, user_id=self.user)

    def search_registered_models(self, filter_string: str | None = None, max_results: int | None = None,
                                 order_by: Sequence[str] | None = None,
                                 page_token: str | None = None) -> Page[RegisteredModel]:
        return self.backend.search_registered_models(filter_string, max_results, order_by, page_token)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self.backend.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.backend.delete_registered_model_tag(name, key)

    def get_model_version(self, name: str, version: Any) -> ModelVersion:
        return self.backend.get_model_version(name, version)

    def update_model_version(self, name: str, version: Any, description: str | None) -> ModelVersion:
        return self.backend.update_model_version(name, version, description)

    def delete_model_version(self, name: str, version: Any) -> None:
        self.backend.delete_model_version(name, version, user_id=self.user)

    def search_model_versions(self, filter_string: str | None = None, max_results: int | None = None,
                              order_by: Sequence[str] | None = None,
                              page_token: str | None = None) -> Page[ModelVersion]:
        return self.backend.search_model_versions(filter_string, max_results, order_by, page_token)

    def list_versions(self, name: str) -> list[ModelVersion]:
        return self.backend.list_versions(name)

    def set_model_version_tag(self, name: str, version: Any, key: str, value: str) -> None:
        self.backend.set_model_version_tag(name, version, key, value)

    def transition_model_version_stage(self, name: str, version: Any, stage: str,
                                       archive_existing_versions: bool = False) -> ModelVersion:
        return self.backend.transition_model_version_stage(name, version, stage, archive_existing_versions)

    def set_alias(self, name: str, alias: str, version: Any, *, reason: str = "") -> None:
        """Point ``name@alias`` at ``version``; the move is recorded in the audit log."""
        self.backend.set_registered_model_alias(name, alias, version, user_id=self.user, reason=reason)

    def delete_alias(self, name: str, alias: str, *, reason: str = "") -> None:
        self.backend.delete_registered_model_alias(name, alias, user_id=self.user, reason=reason)

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.backend.get_model_version_by_alias(name, alias)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        return self.backend.alias_history(name, alias)

    def rollback(self, name: str, alias: str, *, reason: str = "") -> ModelVersion:
        """Move ``name@alias`` back to the version it pointed to before its last move."""
        return self.backend.rollback_alias(name, alias, user_id=self.user, reason=reason)

    def resolve(self, uri: str) -> ModelVersion:
        """The version ``models:/name/3``, ``models:/name@alias`` or ``models:/name/latest`` names."""
        return self.backend.resolve(uri)

    def get_version(self, ref: str) -> ModelVersion:
        """A version from ``name/3``, ``name@alias`` or a ``models:/`` URI."""
        name, version, alias = split_name_ref(ref)
        if alias is not None:
            return self.backend.get_model_version_by_alias(name, alias)
        if version is None:
            raise InvalidParameter(f"{ref!r} names no version: write {ref}/<version> or {ref}@<alias>")
        return self.backend.get_model_version(name, version)

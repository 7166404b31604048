"""The model registry: registered models, numbered versions, movable aliases, an audit log.

    import stead.registry as reg
    mv = reg.register_model("runs:/<run_id>/model", "churn")
    reg.set_alias("churn", "production", mv.version, reason="beats v2 on AUC")
    reg.rollback("churn", "production")

``RegistryClient`` is the explicit client (embedded store, or a stead server when
``STEAD_TRACKING_URI`` is http); ``Registry`` is the service over a metadata store;
``resolve_model_uri`` turns ``models:/`` and ``runs:/`` URIs into artifact locations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stead.registry.records import AliasEvent, ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from stead.registry.client import RegistryClient

__all__ = [
    "RegisteredModel",
    "ModelVersion",
    "AliasEvent",
    "RegistryClient",
    "register_model",
    "get_model_version",
    "set_alias",
    "delete_alias",
    "rollback",
    "search_registered_models",
    "search_model_versions",
    "resolve_model_uri",
    "default_client",
]

_default: "RegistryClient | None" = None


def default_client() -> "RegistryClient":
    """The client of the module functions: it follows the tracking client of
    ``stead.start_run`` (``stead.tracking.fluent.get_client``), so both see one store."""
    global _default
    from stead.tracking.fluent import get_client

    tracking = get_client()
    if _default is None or _default.tracking is not tracking:
        from stead.registry.client import RegistryClient

        _default = RegistryClient.from_tracking(tracking)
    return _default


def __getattr__(name: str) -> Any:
    if name == "RegistryClient":
        from stead.registry.client import RegistryClient

        return RegistryClient
    if name == "resolve_model_uri":
        from stead.registry.resolve import resolve_model_uri

        return resolve_model_uri
    raise AttributeError(f"module 'stead.registry' has no attribute {name!r}")


def register_model(model_uri: str, name: str, *, tags: Mapping[str, str] | None = None,
                   description: str | None = None) -> ModelVersion:
    """Register ``runs:/<run_id>/<path>`` as a new version of ``name``; nothing is written on error."""
    return default_client().register_model(model_uri, name, tags=tags, description=description)


def get_model_version(name: str, version: int | str) -> ModelVersion:
    return default_client().get_model_version(name, version)


def set_alias(name: str, alias: str, version: int | str, *, reason: str = "") -> None:
    """Point ``name@alias`` at ``version`` (recorded in the audit log)."""
    default_client().set_alias(name, alias, version, reason=reason)


def delete_alias(name: str, alias: str, *, reason: str = "") -> None:
    default_client().delete_alias(name, alias, reason=reason)


def rollback(name: str, alias: str, *, reason: str = "") -> ModelVersion:
    """Move ``name@alias`` back to the version it pointed to before."""
    return default_client().rollback(name, alias, reason=reason)


def search_registered_models(filter_string: str | None = None, max_results: int | None = None) -> list[RegisteredModel]:
    return default_client().search_registered_models(filter_string, max_results).items


def search_model_versions(filter_string: str | None = None, max_results: int | None = None) -> list[ModelVersion]:
    return default_client().search_model_versions(filter_string, max_results).items

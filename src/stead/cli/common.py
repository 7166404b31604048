"""What every command shares: the settings, and the tracking client and deployments service
built from them."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from stead.cli.plain import JSON

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.tracking.client import TrackingClient

__all__ = ["settings", "tracking_client", "deployments_service", "JSON_OPTION"]

JSON_OPTION = JSON.typer_option()


@lru_cache(maxsize=1)
def settings() -> "Settings":
    from stead.config import load_settings

    return load_settings()


@lru_cache(maxsize=1)
def tracking_client() -> "TrackingClient":
    from stead.tracking.client import TrackingClient

    return TrackingClient(settings())


def deployments_service() -> Any:
    """The deployments service (``stead deploy ...``) on the store the registry uses."""
    from stead.registry.client import RegistryClient
    from stead.serving.deployments import Deployments

    registry = RegistryClient(settings())
    store = getattr(registry.backend, "store", None)
    if store is None:
        from stead.store import open_store

        store = open_store(settings().resolved_store_url)
    return Deployments(store, registry)

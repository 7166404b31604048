"""What every command shares: the settings and a tracking client built from them."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from stead.cli.plain import JSON

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.tracking.client import TrackingClient

__all__ = ["settings", "tracking_client", "JSON_OPTION"]

JSON_OPTION = JSON.typer_option()


@lru_cache(maxsize=1)
def settings() -> "Settings":
    from stead.config import load_settings

    return load_settings()


@lru_cache(maxsize=1)
def tracking_client() -> "TrackingClient":
    from stead.tracking.client import TrackingClient

    return TrackingClient(settings())

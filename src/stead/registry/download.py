"""Downloading a model directory named by a URI (``models:/``, ``runs:/`` or an artifact URI)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stead.errors import NotFound

if TYPE_CHECKING:
    from stead.tracking.client import TrackingClient

__all__ = ["download_model"]


def download_model(uri: str, dst: str | Path, client: "TrackingClient | None" = None) -> Path:
    """Copy the model directory ``uri`` names into ``dst``; returns ``dst``."""
    from stead.registry.resolve import resolve_model_uri
    from stead.tracking.client import TrackingClient

    tracking = client or TrackingClient()
    location = resolve_model_uri(uri, tracking)
    store = tracking.artifacts_at(location)
    if not store.exists(""):
        raise NotFound(f"{uri} resolves to {location}, which holds no files")
    target = Path(dst)
    target.mkdir(parents=True, exist_ok=True)
    store.get_dir("", target)
    return target

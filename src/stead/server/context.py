"""What every handler needs, built once by ``create_app``: store, backend, artifacts, users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stead.artifacts.base import ArtifactStore
    from stead.config import Settings
    from stead.server.users import UserService
    from stead.store import Store
    from stead.tracking.backend import EmbeddedBackend

__all__ = ["ServerContext", "ARTIFACT_SCHEME_ROOT"]

# Experiments created through the server keep their artifacts behind the proxy.
ARTIFACT_SCHEME_ROOT = "mlflow-artifacts:"


@dataclass
class ServerContext:
    settings: "Settings"
    store: "Store"
    backend: "EmbeddedBackend"
    artifacts: "ArtifactStore"
    users: "UserService | None"  # None when auth is off

    @property
    def auth(self) -> bool:
        return self.users is not None

"""What every handler needs, built once by ``create_app``: store, backend, artifacts, users,
and the threads the handlers run on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

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
    executor: "ThreadPoolExecutor | None" = None  # the handler threads; create_app makes them

    @property
    def auth(self) -> bool:
        return self.users is not None

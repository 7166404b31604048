"""What every handler needs, built once by ``create_app``: store, backend, artifacts, users,
and the threads the handlers run on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from stead.artifacts.base import ArtifactStore
    from stead.config import Settings
    from stead.server.bodies import Deadlines
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
    # Artifact bytes move on pools of their own, so transfers and JSON calls never wait on each other.
    uploads: "ThreadPoolExecutor | None" = None
    downloads: "ThreadPoolExecutor | None" = None
    request_timeout: float = 60.0  # seconds a request's headers or body may stop arriving
    deadlines: "Deadlines | None" = None  # watches bodies being received; create_app makes it

    def __post_init__(self) -> None:
        import os

        from stead.server.errors import keep_private

        store_url = self.settings.resolved_store_url
        keep_private(store_url, "the metadata store")
        keep_private(str(getattr(self.store, "url", "") or ""), "the metadata store")
        if store_url.startswith("sqlite:///"):
            keep_private(store_url[len("sqlite:///"):], "the metadata store")
        for root in (self.settings.resolved_artifacts_url, getattr(self.artifacts, "root_uri", None),
                     getattr(self.artifacts, "root", None)):
            if root:
                keep_private(str(root).rstrip("/"), "the artifact store")
                if str(root).startswith("/"):
                    keep_private(os.path.realpath(str(root)), "the artifact store")
        keep_private(str(self.settings.home), "the server's home")

    @property
    def auth(self) -> bool:
        return self.users is not None
